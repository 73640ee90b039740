#ifndef ROLLOUT_CZLIB_SHIM_H
#define ROLLOUT_CZLIB_SHIM_H
#include <zlib.h>
#endif

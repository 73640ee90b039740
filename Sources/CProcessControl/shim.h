#ifndef ROLLOUT_CPROCESSCONTROL_SHIM_H
#define ROLLOUT_CPROCESSCONTROL_SHIM_H
// prctl(2) is variadic, which Swift does not call: one fixed-argument wrapper for what rollout needs.
#ifdef __linux__
#include <sys/prctl.h>
/// Makes this process non-dumpable: /proc/<pid>/environ, mem and the like become root's, and no
/// process of the same user may ptrace it. Returns prctl's result (0, or -1 with errno).
static inline int rollout_make_undumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }
#else
static inline int rollout_make_undumpable(void) { return 0; }
#endif
#endif

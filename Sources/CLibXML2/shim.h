#ifndef ROLLOUT_CLIBXML2_SHIM_H
#define ROLLOUT_CLIBXML2_SHIM_H

// Debian's libxml2 is built with ICU; its headers then pull in ICU's, which clash with Foundation's
// bundled ICU symbols. We use no ICU API, so switch it off before the first libxml2 header.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlsave.h>

// xmlFree is a global function-pointer variable, which Swift 6 refuses to read from concurrent
// code; calling it through a function keeps that access in C.
static inline void rollout_xml_free(void *pointer) { xmlFree(pointer); }

#endif

/* cmssw.h — the CMSSW emulator library back end (--emit cmssw): DIR/cmssw/, a
 * C++ class implementing hls4mlEmulator::Model (the interface CMS Level-1
 * emulators load through hls4mlEmulatorExtras' ModelLoader) around the
 * standalone C emulator, and a Makefile building NAME_v<N>.so. */
#ifndef ETN_CMSSW_H
#define ETN_CMSSW_H
#include "ir/ir.h"

/* The largest --cmssw-version accepted. */
#define CMSSW_VERSION_MAX 1000000

/* Parse a --cmssw-version value: a positive decimal integer (digits only,
 * 1..CMSSW_VERSION_MAX).  Returns the number, or -1 with a message in d. */
int cmssw_parse_version(Diag *d, const char *value);

/* Write DIR/cmssw/ (c/NAME.{c,h}: the C emulator as cemu_write writes it;
 * include/hls4ml/emulator.h; NAME_v<N>.cpp; exports.map; Makefile; README.md)
 * when emit is non-zero.  version: the library version N (0: not given, 1).
 * A version given without emit is refused (-1): it would change nothing. */
int cmssw_write(const Graph *g, Diag *d, const char *dir, int version, int emit);

#endif

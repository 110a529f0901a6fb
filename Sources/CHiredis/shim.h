// Debian libhiredis-dev (0.14, RESP2), used only as the RESP codec. Linked by name: its pkg-config
// file adds -D_FILE_OFFSET_BITS=64, which SwiftPM drops with a warning on every build.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>

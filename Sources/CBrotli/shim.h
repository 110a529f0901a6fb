// Debian libbrotli-dev. Linked by name, not through pkg-config (see README, "Build").
#include <brotli/encode.h>
#include <brotli/decode.h>

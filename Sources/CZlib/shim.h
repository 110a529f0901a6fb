// Debian zlib1g-dev, for gzip.
#include <zlib.h>

// zlib (Debian zlib1g-dev): gzip-compressed certificates on PIV tokens.
#include <zlib.h>

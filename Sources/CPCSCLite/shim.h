// pcsc-lite (Debian libpcsclite-dev): the only C library TokenDriver talks to.
#include <winscard.h>
#include <reader.h>

// pcsc-lite (Debian libpcsclite-dev): how TokenDriver talks to the cards.
#include <winscard.h>
#include <reader.h>

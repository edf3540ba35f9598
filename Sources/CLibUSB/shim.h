// libusb-1.0 (Debian libusb-1.0-0-dev): the USB identity (vendor, product, strings) of tokens.
#include <libusb.h>

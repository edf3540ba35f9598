// The PKCS#11 2.40 API (Debian libp11-kit-dev's header, in its CK_* compatibility names). Nothing is
// linked: a module (opensc-pkcs11.so, libsofthsm2.so, a vendor's) is loaded with dlopen from its
// path and reached through the function list it hands back (TokenDriver/PKCS11/PKCS11Module.swift).
#include <p11-kit-1/p11-kit/pkcs11.h>

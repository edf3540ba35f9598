// libxml2 (Debian libxml2-dev): parsing without DTDs or entities, and exact canonicalization
// (C14N) for XML signatures.
//
// Debian builds libxml2 with ICU, so <libxml/encoding.h> pulls in the system's ICU headers, which
// clash with the ICU copy inside Swift's Foundation (same enums, different members). Nothing here
// touches ICU converters: the option is switched off for these declarations only. (It changes
// the tail of xmlCharEncodingHandler, which our code never reads or allocates.)
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlwriter.h>
#include <libxml/c14n.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

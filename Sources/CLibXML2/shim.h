// libxml2 (Debian libxml2-dev): parsing without DTDs or entities, and exact canonicalization
// (C14N) for XML signatures.
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlwriter.h>
#include <libxml/c14n.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

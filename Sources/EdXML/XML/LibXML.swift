import CLibXML2
#if canImport(Glibc)
import Glibc
#endif

/// The small part of libxml2's tree API the package code uses, in Swift terms.
enum LibXML {
    /// libxml2 wants one initialisation before threads use it.
    static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    static func string(_ pointer: UnsafePointer<xmlChar>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }
}

/// A libxml2 document this process owns, freed with it.
final class XMLTree: @unchecked Sendable {
    // @unchecked: the tree is only touched by whoever holds this object, one call at a time.
    let document: xmlDocPtr

    init(document: xmlDocPtr) { self.document = document }
    deinit { xmlFreeDoc(document) }

    var root: xmlNodePtr? { xmlDocGetRootElement(document) }
}

extension UnsafeMutablePointer where Pointee == xmlNode {
    var isElement: Bool { pointee.type == XML_ELEMENT_NODE }

    var localName: String { LibXML.string(pointee.name) ?? "" }

    /// The element's namespace URI — what names are matched on, never the prefix.
    var namespaceURI: String? { pointee.ns.flatMap { LibXML.string($0.pointee.href) } }

    func isNamed(_ name: String, in namespace: String) -> Bool {
        isElement && namespaceURI == namespace && localName == name
    }

    /// Child elements in document order.
    var childElements: [xmlNodePtr] {
        var result: [xmlNodePtr] = []
        var child = pointee.children
        while let node = child {
            if node.isElement { result.append(node) }
            child = node.pointee.next
        }
        return result
    }

    func children(named name: String, in namespace: String) -> [xmlNodePtr] {
        childElements.filter { $0.isNamed(name, in: namespace) }
    }

    func child(named name: String, in namespace: String) -> xmlNodePtr? {
        children(named: name, in: namespace).first
    }

    /// All text below this node, concatenated.
    var textContent: String {
        guard let content = xmlNodeGetContent(self) else { return "" }
        // libxml2's xmlFree is free() unless xmlMemSetup was called, which this process never does.
        defer { free(content) }
        return String(cString: content)
    }

    func attribute(_ name: String) -> String? {
        guard let value = xmlGetNoNsProp(self, name) else { return nil }
        defer { free(value) }
        return String(cString: value)
    }

    var line: Int { Int(xmlGetLineNo(self)) }
}

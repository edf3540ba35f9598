import CLibXML2

/// Builds a libxml2 tree the way the package is to look on the wire, indentation included: the
/// indentation is real text nodes in the tree (not a serializer option), because the signature
/// is computed over the tree and the recipient parses those text nodes back.
final class TreeBuilder {
    let tree: XMLTree
    private let namespace: xmlNsPtr

    init(rootName: String) {
        _ = LibXML.initialized
        let document = xmlNewDoc("1.0")!
        let root = xmlNewDocNode(document, nil, rootName, nil)!
        xmlDocSetRootElement(document, root)
        // The edXML namespace as the default namespace of the whole package: names stay short,
        // and exclusive C14N renders one declaration, on the root.
        namespace = xmlNewNs(root, EdXML.namespace, nil)
        xmlSetNs(root, namespace)
        tree = XMLTree(document: document)
    }

    var root: xmlNodePtr { tree.root! }

    /// Adds an empty element in the edXML namespace as the last child of `parent`.
    @discardableResult
    func element(_ name: String, in parent: xmlNodePtr) -> xmlNodePtr {
        element(name, namespace: namespace, in: parent)
    }

    func element(_ name: String, namespace: xmlNsPtr?, in parent: xmlNodePtr) -> xmlNodePtr {
        let depth = Self.depth(of: parent)
        indent(parent, depth: depth + 1)
        let node = xmlNewDocNode(tree.document, namespace, name, nil)!
        xmlAddChild(parent, node)
        return node
    }

    /// Adds `<name>text</name>`; nothing when `text` is nil.
    @discardableResult
    func text(_ name: String, _ text: String?, in parent: xmlNodePtr) -> xmlNodePtr? {
        guard let text else { return nil }
        let node = element(name, in: parent)
        // xmlNodeAddContent stores the characters as they are; escaping happens on output.
        xmlNodeAddContent(node, text)
        return node
    }

    /// Puts the closing tag of `parent` on its own line, under its opening tag.
    func close(_ parent: xmlNodePtr) {
        guard parent.pointee.children != nil else { return }
        indent(parent, depth: Self.depth(of: parent))
    }

    /// Closes every element below `node`, deepest last, once the whole subtree is built.
    func closeAll(_ node: xmlNodePtr) {
        for child in node.childElements { closeAll(child) }
        if node.childElements.isEmpty == false { close(node) }
    }

    private func indent(_ parent: xmlNodePtr, depth: Int) {
        let whitespace = "\n" + String(repeating: "  ", count: depth)
        xmlAddChild(parent, xmlNewDocText(tree.document, whitespace))
    }

    static func depth(of node: xmlNodePtr) -> Int {
        var depth = 0
        var current = node.pointee.parent
        while let parent = current, parent.pointee.type == XML_ELEMENT_NODE {
            depth += 1
            current = parent.pointee.parent
        }
        return depth
    }
}

import CLibXML2

/// Canonical XML through libxml2's own C14N (`xmlC14NExecute`), written to a callback instead of
/// memory, over a node set given as "this subtree" or "everything but this subtree".
enum Canonicalizer {
    enum Method: String, CaseIterable, Sendable {
        case exclusive = "http://www.w3.org/2001/10/xml-exc-c14n#"
        case exclusiveWithComments = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
        case inclusive = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
        case inclusiveWithComments = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
        case inclusive11 = "http://www.w3.org/2006/12/xml-c14n11"
        case inclusive11WithComments = "http://www.w3.org/2006/12/xml-c14n11#WithComments"

        var mode: xmlC14NMode {
            switch self {
            case .exclusive, .exclusiveWithComments: XML_C14N_EXCLUSIVE_1_0
            case .inclusive, .inclusiveWithComments: XML_C14N_1_0
            case .inclusive11, .inclusive11WithComments: XML_C14N_1_1
            }
        }

        var withComments: Bool {
            switch self {
            case .exclusiveWithComments, .inclusiveWithComments, .inclusive11WithComments: true
            default: false
            }
        }
    }

    enum NodeSet {
        case subtree(xmlNodePtr)
        case allExcept(xmlNodePtr)
    }

    /// Canonicalizes `document` restricted to `nodes`, handing the output to `write` in pieces.
    static func canonicalize(_ document: xmlDocPtr, nodes: NodeSet, method: Method, write: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        let sink = Sink(write: write)
        let sinkBox = Unmanaged.passRetained(sink)
        // The buffer owns the sink from here: its close callback releases it.
        guard let buffer = xmlOutputBufferCreateIO({ context, bytes, length in
            guard let context else { return -1 }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            guard let bytes, length > 0 else { return 0 }
            do { try sink.write(UnsafeRawBufferPointer(start: bytes, count: Int(length))) } catch {
                sink.failure = error
                return -1
            }
            return length
        }, { context in
            if let context { Unmanaged<Sink>.fromOpaque(context).release() }
            return 0
        }, sinkBox.toOpaque(), nil) else {
            sinkBox.release()
            throw EdXMLError.signature("libxml2 không tạo được bộ đệm / libxml2 could not create an output buffer")
        }
        let selection = Selection(nodes: nodes)
        let selectionBox = Unmanaged.passRetained(selection)
        defer { selectionBox.release() }
        let result = xmlC14NExecute(document, { userData, node, parent in
            guard let userData else { return 0 }
            let selection = Unmanaged<Selection>.fromOpaque(userData).takeUnretainedValue()
            return selection.isVisible(UnsafeMutableRawPointer(node), parent: parent) ? 1 : 0
        }, selectionBox.toOpaque(), Int32(method.mode.rawValue), nil, method.withComments ? 1 : 0, buffer)
        let failure = sink.failure
        xmlOutputBufferClose(buffer)
        if let failure { throw failure }
        if result < 0 { throw EdXMLError.signature("libxml2 C14N thất bại / libxml2 C14N failed") }
    }

    private final class Sink {
        let write: (UnsafeRawBufferPointer) throws -> Void
        var failure: (any Error)?
        init(write: @escaping (UnsafeRawBufferPointer) throws -> Void) { self.write = write }
    }

    /// Decides membership from a node's ancestry. libxml2 hands over elements, attributes, text
    /// and also namespace declarations (`xmlNs`, a smaller struct whose second field is its type,
    /// like `xmlNode`'s), so fields are read by offset and namespaces are judged by their element.
    private final class Selection {
        let nodes: NodeSet
        init(nodes: NodeSet) { self.nodes = nodes }

        static let typeOffset = MemoryLayout<xmlNode>.offset(of: \xmlNode.type)!
        static let parentOffset = MemoryLayout<xmlNode>.offset(of: \xmlNode.parent)!

        func isVisible(_ node: UnsafeMutableRawPointer?, parent: xmlNodePtr?) -> Bool {
            guard let node else { return false }
            let type = node.load(fromByteOffset: Self.typeOffset, as: xmlElementType.self)
            var current: UnsafeMutableRawPointer? = type == XML_NAMESPACE_DECL ? parent.map(UnsafeMutableRawPointer.init) : node
            let target: xmlNodePtr
            switch nodes {
            case .subtree(let apex): target = apex
            case .allExcept(let excluded): target = excluded
            }
            var inside = false
            while let candidate = current {
                if candidate == UnsafeMutableRawPointer(target) { inside = true; break }
                current = candidate.load(fromByteOffset: Self.parentOffset, as: UnsafeMutableRawPointer?.self)
            }
            switch nodes {
            case .subtree: return inside
            case .allExcept: return !inside
            }
        }
    }
}

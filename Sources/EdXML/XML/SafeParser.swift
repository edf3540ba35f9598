import CLibXML2
#if canImport(Crypto)
import Crypto
#endif
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// How much a package may hold before it is refused. The defaults fit every real package we know
/// of with a wide margin and keep a hostile one from taking the box's memory or disk.
package struct ReadLimits: Sendable {
    package var maxDepth = 40
    package var maxElements = 50_000
    /// Text and attribute bytes outside the attachments (the metadata).
    package var maxMetadataBytes = 4 << 20
    package var maxAttachments = 500
    /// Decoded size of one attachment.
    package var maxAttachmentBytes: Int64 = 2 << 30

    package init() {}
}

/// The decoded bytes of one attachment, where the reader put them.
struct DecodedAttachment {
    /// Nil when the reader was asked only to count and hash.
    var path: String?
    var size: Int64 = 0
    var sha256: [UInt8] = []
    /// The attachment's text exactly as parsed (base64, whitespace included), kept when the
    /// caller needs to check a signature over it.
    var textPath: String?
}

/// A parsed package: libxml2's tree of everything but the attachments' text (which is a
/// placeholder token), and the attachments decoded to disk.
final class ParsedXML: @unchecked Sendable {
    let tree: XMLTree
    let placeholders: Placeholders
    var attachments: [DecodedAttachment]
    private let scratch: URL?

    init(tree: XMLTree, placeholders: Placeholders, attachments: [DecodedAttachment], scratch: URL?) {
        self.tree = tree
        self.placeholders = placeholders
        self.attachments = attachments
        self.scratch = scratch
    }

    deinit {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    /// Which attachment a `ContentTransferEncoded` element stands for.
    func attachmentIndex(of node: xmlNodePtr) -> Int? {
        let text = node.textContent
        let token = placeholders.token(0)
        let stem = token.dropLast(Placeholders.indexDigits)
        guard text.count == token.count, text.hasPrefix(stem), let index = Int(text.dropFirst(stem.count)),
              attachments.indices.contains(index) else { return nil }
        return index
    }
}

/// Parses untrusted packages with libxml2's SAX2 parser, pulling the input in chunks:
/// - no DTD: a `DOCTYPE` stops the parse (no internal subset, no external entities, no entity
///   expansion — billion laughs cannot start), and so does any entity other than the five XML
///   predefines; no network access ever (`XML_PARSE_NONET`);
/// - limits on depth, element count and metadata size;
/// - the text of `ContentTransferEncoded` never enters the tree: it is base64-decoded to disk as
///   it arrives, so memory stays flat whatever the attachments weigh.
/// Everything else goes to libxml2's own tree builder, so the tree is exactly libxml2's.
enum SafeParser {
    enum AttachmentOutput {
        /// Count and hash only.
        case discard
        /// Decode into `directory/.edxml-part-N`; the caller renames them.
        case directory(URL)
    }

    static func parse(path: String, limits: ReadLimits = .init(), output: AttachmentOutput = .discard, keepAttachmentText: Bool = false) throws -> ParsedXML {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw EdXMLError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let source = InputSource { buffer in
            while true {
                let count = read(fd, buffer.baseAddress, buffer.count)
                if count < 0 && errno == EINTR { continue }
                return count
            }
        }
        return try parse(source: source, limits: limits, output: output, keepAttachmentText: keepAttachmentText)
    }

    static func parse(bytes: [UInt8], limits: ReadLimits = .init(), output: AttachmentOutput = .discard, keepAttachmentText: Bool = false) throws -> ParsedXML {
        var offset = 0
        let source = InputSource { buffer in
            let count = min(buffer.count, bytes.count - offset)
            if count > 0 {
                bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
            }
            offset += count
            return count
        }
        return try parse(source: source, limits: limits, output: output, keepAttachmentText: keepAttachmentText)
    }

    static func parse(source: InputSource, limits: ReadLimits, output: AttachmentOutput, keepAttachmentText: Bool) throws -> ParsedXML {
        _ = LibXML.initialized
        let placeholders = Placeholders()
        let scratch: URL? = keepAttachmentText
            ? FileManager.default.temporaryDirectory.appendingPathComponent("edxml-\(placeholders.nonce)")
            : nil
        if let scratch { try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true) }
        let state = ParseState(limits: limits, output: output, scratch: scratch, placeholders: placeholders)
        var cleanupScratch = true
        defer { if cleanupScratch, let scratch { try? FileManager.default.removeItem(at: scratch) } }

        var sax = xmlSAXHandler()
        xmlSAXVersion(&sax, 2)
        sax.internalSubset = { ctx, _, _, _ in ParseState.of(ctx)?.stop(ctx, .doctypeRefused) }
        sax.externalSubset = { ctx, _, _, _ in ParseState.of(ctx)?.stop(ctx, .doctypeRefused) }
        sax.entityDecl = { ctx, name, _, _, _, _ in ParseState.of(ctx)?.stop(ctx, .entityRefused(LibXML.string(name) ?? "?")) }
        sax.getEntity = { ctx, name in
            ParseState.of(ctx)?.stop(ctx, .entityRefused(LibXML.string(name) ?? "?"))
            return nil
        }
        sax.getParameterEntity = { ctx, name in
            ParseState.of(ctx)?.stop(ctx, .entityRefused(LibXML.string(name) ?? "?"))
            return nil
        }
        sax.resolveEntity = { ctx, _, _ in
            ParseState.of(ctx)?.stop(ctx, .entityRefused("external"))
            return nil
        }
        sax.startElementNs = { ctx, localname, prefix, uri, namespaceCount, namespaces, attributeCount, defaulted, attributes in
            guard let state = ParseState.of(ctx), state.failure == nil else { return }
            guard state.elementStarted(ctx, localname: localname, uri: uri, attributeCount: Int(attributeCount), attributes: attributes) else { return }
            xmlSAX2StartElementNs(ctx, localname, prefix, uri, namespaceCount, namespaces, attributeCount, defaulted, attributes)
        }
        sax.endElementNs = { ctx, localname, prefix, uri in
            guard let state = ParseState.of(ctx), state.failure == nil else { return }
            if let token = state.elementEnded(ctx) {
                token.withCString { xmlSAX2Characters(ctx, UnsafeRawPointer($0).assumingMemoryBound(to: xmlChar.self), Int32(token.utf8.count)) }
            }
            xmlSAX2EndElementNs(ctx, localname, prefix, uri)
        }
        sax.characters = { ctx, characters, length in
            guard let state = ParseState.of(ctx), state.failure == nil, let characters else { return }
            if state.text(ctx, UnsafeRawBufferPointer(start: characters, count: Int(length))) {
                xmlSAX2Characters(ctx, characters, length)
            }
        }
        sax.ignorableWhitespace = sax.characters
        sax.comment = { ctx, value in
            guard let state = ParseState.of(ctx), state.failure == nil else { return }
            if state.markupInsideAttachment(ctx, length: value.map { strlen(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) } ?? 0) {
                xmlSAX2Comment(ctx, value)
            }
        }
        sax.processingInstruction = { ctx, target, data in
            guard let state = ParseState.of(ctx), state.failure == nil else { return }
            if state.markupInsideAttachment(ctx, length: data.map { strlen(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) } ?? 0) {
                xmlSAX2ProcessingInstruction(ctx, target, data)
            }
        }
        // Errors are read from the context after the parse; nothing is printed.
        sax.serror = { _, _ in }
        sax.error = nil
        sax.warning = nil

        let sourceBox = Unmanaged.passRetained(source)
        guard let ctxt = xmlCreateIOParserCtxt(&sax, nil, { context, buffer, length in
            guard let context, let buffer else { return -1 }
            let source = Unmanaged<InputSource>.fromOpaque(context).takeUnretainedValue()
            return Int32(source.read(UnsafeMutableRawBufferPointer(start: buffer, count: Int(length))))
        }, { context in
            if let context { Unmanaged<InputSource>.fromOpaque(context).release() }
            return 0
        }, sourceBox.toOpaque(), XML_CHAR_ENCODING_NONE) else {
            sourceBox.release()
            throw EdXMLError.notWellFormed(line: 0, reason: "libxml2 could not start a parser")
        }
        defer { xmlFreeParserCtxt(ctxt) }
        xmlCtxtUseOptions(ctxt, Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue))
        let stateBox = Unmanaged.passRetained(state)
        defer { stateBox.release() }
        ctxt.pointee._private = stateBox.toOpaque()

        let result = xmlParseDocument(ctxt)
        let document = ctxt.pointee.myDoc
        ctxt.pointee.myDoc = nil
        if let failure = state.failure {
            if let document { xmlFreeDoc(document) }
            state.abandonAttachments()
            throw failure
        }
        guard result == 0, ctxt.pointee.wellFormed != 0, let document else {
            if let document { xmlFreeDoc(document) }
            state.abandonAttachments()
            let error = xmlCtxtGetLastError(ctxt)
            let message = error.flatMap { $0.pointee.message.map { String(cString: $0) } }
                .map { String($0.reversed().drop(while: \.isWhitespace).reversed()) } ?? "malformed"
            throw EdXMLError.notWellFormed(line: Int(error?.pointee.line ?? 0), reason: message)
        }
        cleanupScratch = false
        return ParsedXML(tree: XMLTree(document: document), placeholders: placeholders, attachments: state.attachments, scratch: scratch)
    }
}

/// Where the parser pulls its bytes from: answers the count read, 0 at the end, -1 on error.
final class InputSource {
    let read: (UnsafeMutableRawBufferPointer) -> Int
    init(read: @escaping (UnsafeMutableRawBufferPointer) -> Int) { self.read = read }
}

/// The parse's own bookkeeping, reached from libxml2's callbacks through the context's
/// `_private` pointer (the callbacks are C functions and capture nothing).
private final class ParseState {
    let limits: ReadLimits
    let output: SafeParser.AttachmentOutput
    let scratch: URL?
    let placeholders: Placeholders
    var failure: EdXMLError?
    var depth = 0
    var elements = 0
    var metadataBytes = 0
    /// For each open element: whether it is `edXML:Attachment`.
    var openAttachmentParents: [Bool] = []
    var attachments: [DecodedAttachment] = []
    var current: AttachmentWriter?
    /// The depth at which the current `ContentTransferEncoded` opened.
    var currentDepth = 0

    init(limits: ReadLimits, output: SafeParser.AttachmentOutput, scratch: URL?, placeholders: Placeholders) {
        self.limits = limits
        self.output = output
        self.scratch = scratch
        self.placeholders = placeholders
    }

    static func of(_ ctx: UnsafeMutableRawPointer?) -> ParseState? {
        guard let ctx else { return nil }
        let ctxt = ctx.assumingMemoryBound(to: xmlParserCtxt.self)
        guard let state = ctxt.pointee._private else { return nil }
        return Unmanaged<ParseState>.fromOpaque(state).takeUnretainedValue()
    }

    func stop(_ ctx: UnsafeMutableRawPointer?, _ error: EdXMLError) {
        if failure == nil { failure = error }
        if let ctx { xmlStopParser(ctx.assumingMemoryBound(to: xmlParserCtxt.self)) }
    }

    /// Answers whether libxml2 should build the element.
    func elementStarted(_ ctx: UnsafeMutableRawPointer?, localname: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?,
                        attributeCount: Int, attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) -> Bool {
        if current != nil {
            stop(ctx, .attachment(name: "#\(attachments.count + 1)", reason: "ContentTransferEncoded chứa phần tử con / holds child elements"))
            return false
        }
        depth += 1
        elements += 1
        if depth > limits.maxDepth { stop(ctx, .tooDeep(limit: limits.maxDepth)); return false }
        if elements > limits.maxElements { stop(ctx, .tooLarge(what: "số phần tử / element count", limit: limits.maxElements)); return false }
        if let attributes {
            for index in 0..<attributeCount {
                // Each attribute is five pointers: localname, prefix, URI, value start, value end.
                if let start = attributes[index * 5 + 3], let end = attributes[index * 5 + 4] {
                    metadataBytes += end - start
                }
            }
            if metadataBytes > limits.maxMetadataBytes {
                stop(ctx, .tooLarge(what: "dữ liệu mô tả / metadata bytes", limit: limits.maxMetadataBytes))
                return false
            }
        }
        let name = LibXML.string(localname) ?? ""
        let inNamespace = LibXML.string(uri) == EdXML.namespace
        if inNamespace && name == "ContentTransferEncoded" && openAttachmentParents.last == true {
            guard attachments.count < limits.maxAttachments else {
                stop(ctx, .tooLarge(what: "số tệp đính kèm / attachment count", limit: limits.maxAttachments))
                return false
            }
            do {
                current = try AttachmentWriter(index: attachments.count, output: output, scratch: scratch, limit: limits.maxAttachmentBytes)
                currentDepth = depth
            } catch let error as EdXMLError {
                stop(ctx, error)
                return false
            } catch {
                stop(ctx, .io(path: "attachment", reason: "\(error)"))
                return false
            }
        }
        openAttachmentParents.append(inNamespace && name == "Attachment")
        return true
    }

    /// Closes an attachment's text when its element ends; answers the placeholder to put in the
    /// tree in its stead.
    func elementEnded(_ ctx: UnsafeMutableRawPointer?) -> String? {
        defer {
            depth -= 1
            openAttachmentParents.removeLast()
        }
        guard let writer = current, depth == currentDepth else { return nil }
        current = nil
        do {
            attachments.append(try writer.finish())
        } catch let error as EdXMLError {
            stop(ctx, error)
            return nil
        } catch {
            stop(ctx, .io(path: "attachment", reason: "\(error)"))
            return nil
        }
        return placeholders.token(attachments.count - 1)
    }

    /// Answers whether the text goes into the tree (metadata) rather than to an attachment.
    func text(_ ctx: UnsafeMutableRawPointer?, _ bytes: UnsafeRawBufferPointer) -> Bool {
        if let writer = current {
            do { try writer.write(bytes) } catch let error as EdXMLError { stop(ctx, error) } catch {
                stop(ctx, .io(path: "attachment", reason: "\(error)"))
            }
            return false
        }
        metadataBytes += bytes.count
        if metadataBytes > limits.maxMetadataBytes {
            stop(ctx, .tooLarge(what: "dữ liệu mô tả / metadata bytes", limit: limits.maxMetadataBytes))
            return false
        }
        return true
    }

    /// Comments and processing instructions: counted as metadata; inside an attachment's text
    /// they would split it, so they are refused there.
    func markupInsideAttachment(_ ctx: UnsafeMutableRawPointer?, length: Int) -> Bool {
        if current != nil {
            stop(ctx, .attachment(name: "#\(attachments.count + 1)", reason: "ContentTransferEncoded chứa chú thích hoặc lệnh xử lý / holds a comment or processing instruction"))
            return false
        }
        metadataBytes += length
        if metadataBytes > limits.maxMetadataBytes {
            stop(ctx, .tooLarge(what: "dữ liệu mô tả / metadata bytes", limit: limits.maxMetadataBytes))
            return false
        }
        return true
    }

    /// After a failed parse: remove what was decoded so far.
    func abandonAttachments() {
        current?.abandon()
        for attachment in attachments {
            if let path = attachment.path { unlink(path) }
        }
    }
}

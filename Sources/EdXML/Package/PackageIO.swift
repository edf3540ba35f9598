import CLibXML2
import DurableFiles
import FoundationEssentials
import Signing
import X509
#if canImport(Glibc)
import Glibc
#endif

/// Writes packages to disk: the tree is built from the typed package, signed if a signer is
/// given, and serialized by libxml2 while the attachments are base64-encoded from their files
/// straight into the output. Nothing is held in memory but the metadata and a 64 KiB buffer.
package enum PackageWriter {
    /// Writes `package` to `outputPath` (through a temporary file renamed into place).
    /// `attachmentFiles[i]` holds the bytes of `package.attachments[i]`.
    package static func write(_ package: DocumentPackage, attachmentFiles: [String], to outputPath: String, signer: (any Signer)? = nil) async throws {
        let findings = package.findings() + textFindings(package)
        guard findings.isEmpty else { throw EdXMLError.invalidFields(findings) }
        guard attachmentFiles.count == package.attachments.count else {
            throw EdXMLError.attachment(name: "", reason: "\(attachmentFiles.count) tệp cho \(package.attachments.count) tệp đính kèm / \(attachmentFiles.count) files for \(package.attachments.count) attachments")
        }
        for path in attachmentFiles where access(path, R_OK) != 0 {
            throw EdXMLError.io(path: path, reason: String(cString: strerror(errno)))
        }
        let placeholders = Placeholders()
        let (builder, header) = PackageTree.build(package, placeholders: placeholders)
        try await finish(builder, header: header, placeholders: placeholders, attachmentFiles: attachmentFiles, to: outputPath, signer: signer)
    }

    package static func write(_ status: StatusPackage, to outputPath: String, signer: (any Signer)? = nil) async throws {
        let findings = status.findings() + textFindings(status)
        guard findings.isEmpty else { throw EdXMLError.invalidFields(findings) }
        let (builder, header) = PackageTree.build(status)
        try await finish(builder, header: header, placeholders: Placeholders(), attachmentFiles: [], to: outputPath, signer: signer)
    }

    private static func finish(_ builder: TreeBuilder, header: xmlNodePtr, placeholders: Placeholders, attachmentFiles: [String],
                               to outputPath: String, signer: (any Signer)?) async throws {
        if let signer {
            try await XMLSignature.sign(tree: builder.tree, builder: builder, header: header, signer: signer, expand: { index, hasher in
                try encodeFile(attachmentFiles[index]) { hasher.update($0) }
            }, placeholders: placeholders)
        } else {
            builder.closeAll(builder.tree.root!)
        }
        try serialize(builder.tree, placeholders: placeholders, attachmentFiles: attachmentFiles, to: outputPath)
    }

    /// XML 1.0 cannot carry most control characters, not even escaped: refuse them up front
    /// rather than write a package nobody can parse.
    static func textFindings(_ value: some Encodable) -> [Finding] {
        var findings: [Finding] = []
        let mirror = JSONStringCollector()
        mirror.collect(value)
        for (path, text) in mirror.strings {
            if text.unicodeScalars.contains(where: { scalar in
                (scalar.value < 0x20 && scalar.value != 0x09 && scalar.value != 0x0A && scalar.value != 0x0D) || scalar.value == 0xFFFE || scalar.value == 0xFFFF
            }) {
                findings.append(Finding(path: path, problem: "chứa ký tự điều khiển không hợp lệ trong XML / holds a control character XML cannot carry"))
            }
        }
        return findings
    }

    static func serialize(_ tree: XMLTree, placeholders: Placeholders, attachmentFiles: [String], to outputPath: String) throws {
        let temporary = outputPath + ".part"
        let output = try OutputFile(path: temporary)
        var filter = PlaceholderFilter(placeholders: placeholders, sink: { try output.write($0) }, expand: { index in
            guard attachmentFiles.indices.contains(index) else { throw EdXMLError.signature("unknown placeholder \(index)") }
            try encodeFile(attachmentFiles[index]) { try output.write($0) }
        })
        do {
            try Serializer.save(tree) { try filter.write($0) }
            try filter.finish()
            try output.flush()
            if fsync(output.fd) != 0 { throw EdXMLError.io(path: temporary, reason: String(cString: strerror(errno))) }
            output.close()
            if rename(temporary, outputPath) != 0 { throw EdXMLError.io(path: outputPath, reason: String(cString: strerror(errno))) }
        } catch {
            output.close()
            unlink(temporary)
            throw error
        }
    }

    /// Streams the base64 of a file's bytes to `sink`, in pieces of 64 KiB of text or less.
    static func encodeFile(_ path: String, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw EdXMLError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { Glibc.close(fd) }
        var encoder = Base64Encoder()
        var buffer = [UInt8](repeating: 0, count: 48 << 10)
        var text: [UInt8] = []
        text.reserveCapacity(65 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 { if errno == EINTR { continue }; throw EdXMLError.io(path: path, reason: String(cString: strerror(errno))) }
            if count == 0 { break }
            text.removeAll(keepingCapacity: true)
            buffer.withUnsafeBytes { encoder.encode(UnsafeRawBufferPointer(rebasing: $0[0..<count]), into: &text) }
            try text.withUnsafeBytes { try sink($0) }
        }
        text.removeAll(keepingCapacity: true)
        encoder.finish(into: &text)
        try text.withUnsafeBytes { try sink($0) }
    }
}

/// libxml2's serializer (UTF-8, no added formatting). The tree holds only metadata (the
/// attachments are placeholders), so serializing it to memory first costs kilobytes.
enum Serializer {
    static func save(_ tree: XMLTree, write: (UnsafeRawBufferPointer) throws -> Void) throws {
        var memory: UnsafeMutablePointer<xmlChar>?
        var size: Int32 = 0
        xmlDocDumpMemoryEnc(tree.document, &memory, &size, "UTF-8")
        guard let memory, size > 0 else { throw EdXMLError.io(path: "", reason: "libxml2 could not serialize the package") }
        defer { free(memory) }
        try write(UnsafeRawBufferPointer(start: memory, count: Int(size)))
    }
}

/// A file written through a 64 KiB buffer with plain write(2) calls.
final class OutputFile {
    let fd: Int32
    let path: String
    private var buffer: [UInt8] = []
    private var closed = false

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw EdXMLError.io(path: path, reason: String(cString: strerror(errno))) }
        buffer.reserveCapacity(1 << 16)
    }

    deinit { close() }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { try flush() }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func flush() throws {
        do { try POSIXFile.writeAll(fd, buffer, path: path) } catch { throw EdXMLError.io(path: path, reason: error.reason) }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() {
        if !closed { Glibc.close(fd); closed = true }
    }
}

/// Collects every string in an Encodable value with its key path (for the control-character
/// check, which must see every field without a hand-kept list).
final class JSONStringCollector {
    var strings: [(String, String)] = []

    func collect(_ value: some Encodable) {
        let encoder = StringCollectingEncoder(collector: self, path: [])
        try? value.encode(to: encoder)
    }
}

private struct StringCollectingEncoder: Encoder {
    let collector: JSONStringCollector
    let path: [String]
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Keyed(collector: collector, path: path))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { Unkeyed(collector: collector, path: path) }
    func singleValueContainer() -> any SingleValueEncodingContainer { Single(collector: collector, path: path) }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let collector: JSONStringCollector
        let path: [String]
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil(forKey key: Key) throws {}
        mutating func encode(_ value: String, forKey key: Key) throws { collector.strings.append(((path + [key.stringValue]).joined(separator: "/"), value)) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try value.encode(to: StringCollectingEncoder(collector: collector, path: path + [key.stringValue]))
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            KeyedEncodingContainer(Keyed<NestedKey>(collector: collector, path: path + [key.stringValue]))
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { Unkeyed(collector: collector, path: path + [key.stringValue]) }
        mutating func superEncoder() -> any Encoder { StringCollectingEncoder(collector: collector, path: path) }
        mutating func superEncoder(forKey key: Key) -> any Encoder { StringCollectingEncoder(collector: collector, path: path + [key.stringValue]) }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let collector: JSONStringCollector
        let path: [String]
        var codingPath: [any CodingKey] { [] }
        var count = 0
        mutating func encodeNil() throws { count += 1 }
        mutating func encode(_ value: String) throws { collector.strings.append(((path + ["\(count)"]).joined(separator: "/"), value)); count += 1 }
        mutating func encode<T: Encodable>(_ value: T) throws {
            try value.encode(to: StringCollectingEncoder(collector: collector, path: path + ["\(count)"]))
            count += 1
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            count += 1
            return KeyedEncodingContainer(Keyed<NestedKey>(collector: collector, path: path + ["\(count - 1)"]))
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { count += 1; return Unkeyed(collector: collector, path: path + ["\(count - 1)"]) }
        mutating func superEncoder() -> any Encoder { StringCollectingEncoder(collector: collector, path: path) }
    }

    struct Single: SingleValueEncodingContainer {
        let collector: JSONStringCollector
        let path: [String]
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil() throws {}
        mutating func encode(_ value: String) throws { collector.strings.append((path.joined(separator: "/"), value)) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            if let text = value as? String { return try encode(text) }
            // Numbers and flags encode themselves through this very method: stop here.
            if value is any Numeric || value is Bool { return }
            try value.encode(to: StringCollectingEncoder(collector: collector, path: path))
        }
    }
}

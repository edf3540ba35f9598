// Attachments decoded from base64 as the parser streams them: to a file, hashed, size-limited.
#if canImport(Crypto)
import Crypto
#endif
import DurableFiles
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Decodes one attachment's base64 text to a file (or just counts and hashes it), and keeps
/// the text itself when a signature will need it.
final class AttachmentWriter {
    let index: Int
    let limit: Int64
    var decoder = Base64Decoder()
    #if canImport(Crypto)
    var hasher = SHA256()
    #endif
    var size: Int64 = 0
    var decoded: [UInt8] = []
    let path: String?
    let textPath: String?
    var file: Int32 = -1
    var textFile: Int32 = -1
    var textPending: [UInt8] = []

    init(index: Int, output: SafeParser.AttachmentOutput, scratch: URL?, limit: Int64) throws {
        self.index = index
        self.limit = limit
        switch output {
        case .discard: path = nil
        case .directory(let directory): path = directory.appendingPathComponent(".edxml-part-\(index)").path
        }
        textPath = scratch?.appendingPathComponent("text-\(index)").path
        if let path {
            file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            if file < 0 { throw EdXMLError.io(path: path, reason: String(cString: strerror(errno))) }
        }
        if let textPath {
            textFile = open(textPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            if textFile < 0 { throw EdXMLError.io(path: textPath, reason: String(cString: strerror(errno))) }
        }
        decoded.reserveCapacity(1 << 17)
    }

    deinit {
        if file >= 0 { close(file) }
        if textFile >= 0 { close(textFile) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if textFile >= 0 {
            textPending.append(contentsOf: bytes)
            if textPending.count >= 1 << 16 { try flushText() }
        }
        do {
            try decoder.decode(bytes, into: &decoded)
        } catch {
            throw EdXMLError.attachment(name: "#\(index + 1)", reason: "base64 không hợp lệ / invalid base64 (\(error))")
        }
        if decoded.count >= 1 << 16 { try flushDecoded() }
    }

    private func flushDecoded() throws {
        size += Int64(decoded.count)
        if size > limit {
            throw EdXMLError.tooLarge(what: "kích thước tệp đính kèm / attachment size", limit: Int(clamping: limit))
        }
        #if canImport(Crypto)
        hasher.update(data: decoded)
        #endif
        if file >= 0 { try Self.writeAll(file, decoded, path: path ?? "") }
        decoded.removeAll(keepingCapacity: true)
    }

    private func flushText() throws {
        try Self.writeAll(textFile, textPending, path: textPath ?? "")
        textPending.removeAll(keepingCapacity: true)
    }

    func finish() throws -> DecodedAttachment {
        do { try decoder.finish() } catch {
            throw EdXMLError.attachment(name: "#\(index + 1)", reason: "base64 bị cắt cụt / truncated base64")
        }
        try flushDecoded()
        if textFile >= 0 { try flushText() }
        #if canImport(Crypto)
        let digest = Array(hasher.finalize())
        #else
        let digest: [UInt8] = []  // the fuzzing build compiles without swift-crypto
        #endif
        return DecodedAttachment(path: path, size: size, sha256: digest, textPath: textPath)
    }

    func abandon() {
        if let path { unlink(path) }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        do { try POSIXFile.writeAll(fd, bytes, path: path) } catch { throw EdXMLError.io(path: path, reason: error.reason) }
    }
}

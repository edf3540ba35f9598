// Reading a whole file in chunks, and its SHA-256: the one copy of both.
#if canImport(Crypto)
import Crypto
#endif
#if canImport(Glibc)
import Glibc
#endif

extension POSIXFile {
    /// Feeds the file to `body` in chunks of `chunkSize` bytes (memory stays flat whatever the
    /// file's size) and returns its size; with `sync`, fsyncs it afterwards (a file about to be
    /// renamed into place).
    @discardableResult
    package static func readChunks(ofFile path: String, chunkSize: Int = 1 << 16, sync: Bool = false,
                                   _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int64 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError(call: "open", path: path, errno: errno) }
        defer { close(fd) }
        var size: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemCallError(call: "read", path: path, errno: errno)
            }
            if count == 0 { break }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            size += Int64(count)
        }
        if sync { try fsyncFile(fd, path: path) }
        return size
    }

    #if canImport(Crypto)  // the EdXML fuzzing build compiles without swift-crypto
    /// SHA-256 (lowercase hex) and size of a file; with `sync`, then fsynced.
    package static func sha256(ofFile path: String, sync: Bool = false) throws -> (sha256: String, size: Int64) {
        var hasher = SHA256()
        let size = try readChunks(ofFile: path, sync: sync) { hasher.update(bufferPointer: $0) }
        return (hex(hasher.finalize()), size)
    }
    #endif

    /// Lowercase hex, the form digests take in rows, logs and JSON.
    package static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

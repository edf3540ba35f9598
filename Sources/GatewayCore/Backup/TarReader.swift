import Crypto
import DurableFiles
import Foundation

/// Reads a backup file's ustar entries in order, in 64 KiB chunks, hashing every byte it reads
/// so the trailer's whole-archive hash can be checked. Every deviation is a `BackupFailure`:
/// `.truncated` when the file ends early, `.damaged` for anything else.
final class TarReader {
    private let fd: Int32
    private let path: String
    private var archiveHasher = SHA256()
    private(set) var offset: Int64 = 0
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    init(path: String) throws(BackupFailure) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .io(SystemCallError(call: "open", path: path, errno: errno).description) }
    }

    deinit { close(fd) }

    /// SHA-256 of every byte read so far.
    var archiveSHA256: String { POSIXFile.hex(archiveHasher.finalize()) }

    /// Exactly `count` bytes (≤ 64 KiB) or `.truncated`.
    private func readExactly(_ count: Int) throws(BackupFailure) -> ArraySlice<UInt8> {
        var filled = 0
        while filled < count {
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, count - filled) }
            if got < 0 {
                if errno == EINTR { continue }
                throw .io(SystemCallError(call: "read", path: path, errno: errno).description)
            }
            if got == 0 { throw .truncated("the file ends at byte \(offset + Int64(filled)), before its trailer") }
            filled += got
        }
        buffer.withUnsafeBytes { archiveHasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        offset += Int64(count)
        return buffer[0..<count]
    }

    /// The next header: (name, size), nil at the end-of-archive block.
    func nextHeader() throws(BackupFailure) -> (name: String, size: Int64)? {
        let header = Array(try readExactly(TarHeader.blockSize))
        return try TarHeader.decode(header)
    }

    /// The entry's content in chunks, then its padding; returns its SHA-256.
    func content(size: Int64, _ body: (ArraySlice<UInt8>) throws -> Void) throws -> String {
        var hasher = SHA256()
        var left = size
        while left > 0 {
            let chunk = try readExactly(Int(min(left, Int64(buffer.count))))
            chunk.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            try body(chunk)
            left -= Int64(chunk.count)
        }
        let remainder = Int(size % 512)
        if remainder != 0 {
            guard try readExactly(512 - remainder).allSatisfy({ $0 == 0 }) else { throw BackupFailure.damaged("padding after an entry is not zero") }
        }
        return POSIXFile.hex(hasher.finalize())
    }

    /// A small entry read whole (JSON), refused past `limit`.
    func smallContent(size: Int64, name: String, limit: Int = BackupFormat.maximumJSONSize) throws -> (bytes: [UInt8], sha256: String) {
        guard size <= Int64(limit) else { throw BackupFailure.damaged("\(name) is larger than any backup writes") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(size))
        let sha256 = try content(size: size) { bytes += $0 }
        return (bytes, sha256)
    }

    /// After the first zero block: the second, then nothing.
    func expectEnd() throws(BackupFailure) {
        guard try readExactly(TarHeader.blockSize).allSatisfy({ $0 == 0 }) else {
            throw .damaged("the end of the archive is not zero")
        }
        let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, 1) }
        if got != 0 { throw .damaged("bytes follow the end of the archive") }
    }
}

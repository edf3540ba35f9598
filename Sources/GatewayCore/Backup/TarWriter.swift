import Crypto
import DurableFiles
import Foundation

/// Writes a POSIX ustar archive entry by entry, hashing every byte it writes (the trailer's
/// whole-archive hash) and each entry's content (the manifest).
struct TarWriter<Output: BackupOutput> {
    private(set) var output: Output
    private var archiveHasher = SHA256()
    private(set) var bytesWritten: Int64 = 0
    private(set) var entries: [BackupManifestEntry] = []
    let modificationTime: Int

    init(output: Output, modificationTime: Date) {
        self.output = output
        self.modificationTime = Int(modificationTime.timeIntervalSince1970)
    }

    /// SHA-256 of every byte written so far.
    var archiveSHA256: String { POSIXFile.hex(archiveHasher.finalize()) }

    private mutating func emit(_ bytes: UnsafeRawBufferPointer) throws {
        archiveHasher.update(bufferPointer: bytes)
        try output.write(bytes)
        bytesWritten += Int64(bytes.count)
    }

    private mutating func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try emit($0) }
    }

    private mutating func pad(after size: Int64) throws {
        let remainder = Int(size % 512)
        if remainder != 0 { try emit([UInt8](repeating: 0, count: 512 - remainder)) }
    }

    /// A small entry from memory; returns its manifest entry.
    @discardableResult
    mutating func add(name: String, bytes: [UInt8], mode: Int = 0o640, listed: Bool = true) throws -> BackupManifestEntry {
        try emit(try TarHeader.encode(name: name, size: Int64(bytes.count), mode: mode, modificationTime: modificationTime))
        try emit(bytes)
        try pad(after: Int64(bytes.count))
        let entry = BackupManifestEntry(name: name, size: Int64(bytes.count), sha256: POSIXFile.hex(SHA256.hash(data: bytes)))
        if listed { entries.append(entry) }
        return entry
    }

    /// A file streamed in 64 KiB chunks. Its size is taken first (the header needs it); a file
    /// that grows or shrinks meanwhile is an error, never a silently inconsistent entry.
    @discardableResult
    mutating func add(name: String, file path: String, mode: Int = 0o640) throws -> BackupManifestEntry {
        guard let size = POSIXFile.size(path) else { throw SystemCallError(call: "stat", path: path, errno: errno) }
        try emit(try TarHeader.encode(name: name, size: size, mode: mode, modificationTime: modificationTime))
        var hasher = SHA256()
        var copied: Int64 = 0
        var failure: Error?
        try POSIXFile.readChunks(ofFile: path) { chunk in
            guard failure == nil else { return }
            let take = Int(min(Int64(chunk.count), size - copied))
            guard take == chunk.count else {
                failure = BackupFailure.io("\(path) grew while it was copied")
                return
            }
            let slice = UnsafeRawBufferPointer(rebasing: chunk[0..<take])
            hasher.update(bufferPointer: slice)
            do { try emit(slice) } catch { failure = error }
            copied += Int64(take)
        }
        if let failure { throw failure }
        guard copied == size else { throw BackupFailure.io("\(path) shrank while it was copied") }
        try pad(after: size)
        let entry = BackupManifestEntry(name: name, size: size, sha256: POSIXFile.hex(hasher.finalize()))
        entries.append(entry)
        return entry
    }

    /// The manifest, then the trailer over everything before it, then the end-of-archive blocks.
    mutating func finish() throws {
        let manifest = try BackupFormat.encoder().encode(BackupManifest(entries: entries))
        let manifestEntry = try add(name: BackupFormat.manifestName, bytes: Array(manifest), listed: false)
        let trailer = BackupTrailer(manifestSHA256: manifestEntry.sha256, archiveSHA256: archiveSHA256, archiveBytes: bytesWritten)
        try add(name: BackupFormat.trailerName, bytes: Array(try BackupFormat.encoder().encode(trailer)), listed: false)
        try emit([UInt8](repeating: 0, count: 1024))
    }
}

/// The 512-byte ustar header: the one encoder and decoder of it.
enum TarHeader {
    static let blockSize = 512

    static func encode(name: String, size: Int64, mode: Int, modificationTime: Int) throws -> [UInt8] {
        var header = [UInt8](repeating: 0, count: blockSize)
        let (prefix, base) = try split(name)
        func put(_ bytes: [UInt8], at offset: Int) { for (index, byte) in bytes.enumerated() { header[offset + index] = byte } }
        func octal(_ value: Int64, width: Int) -> [UInt8] {  // width digits then NUL
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - digits.count)) + digits).utf8) + [0]
        }
        put(base, at: 0)
        put(octal(Int64(mode), width: 7), at: 100)
        put(octal(0, width: 7), at: 108)
        put(octal(0, width: 7), at: 116)
        guard size < 0o77777777777 else { throw BackupFailure.io("\(name) is too large for a tar entry") }
        put(octal(size, width: 11), at: 124)
        put(octal(Int64(modificationTime), width: 11), at: 136)
        header[156] = UInt8(ascii: "0")
        put(Array("ustar".utf8) + [0], at: 257)
        put(Array("00".utf8), at: 263)
        put(prefix, at: 345)
        put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148)
        let sum = header.reduce(0) { $0 + Int($1) }
        put(octal(Int64(sum), width: 6) + [UInt8(ascii: " ")], at: 148)
        return header
    }

    /// ustar keeps names in two fields: up to 155 bytes of directories and 100 of the rest.
    private static func split(_ name: String) throws -> (prefix: [UInt8], name: [UInt8]) {
        let bytes = Array(name.utf8)
        if bytes.count <= 100 { return ([], bytes) }
        for index in stride(from: min(bytes.count - 1, 155), through: 1, by: -1) where bytes[index] == UInt8(ascii: "/") {
            if bytes.count - index - 1 <= 100 { return (Array(bytes[..<index]), Array(bytes[(index + 1)...])) }
        }
        throw BackupFailure.io("\(name): path too long for a ustar archive")
    }

    /// (name, size) of a header block, nil for an all-zero block (the end of the archive).
    static func decode(_ header: [UInt8]) throws(BackupFailure) -> (name: String, size: Int64)? {
        if header.allSatisfy({ $0 == 0 }) { return nil }
        func field(_ offset: Int, _ length: Int) -> [UInt8] { Array(header[offset..<offset + length].prefix(while: { $0 != 0 })) }
        func octal(_ offset: Int, _ length: Int) -> Int64? {
            let text = String(decoding: field(offset, length), as: UTF8.self).trimmingCharacters(in: .whitespaces)
            return text.isEmpty ? nil : Int64(text, radix: 8)
        }
        var unsigned = 0
        for (index, byte) in header.enumerated() { unsigned += (148..<156).contains(index) ? 32 : Int(byte) }
        guard let recorded = octal(148, 8), recorded == Int64(unsigned) else {
            throw .damaged("a tar header's checksum does not match")
        }
        guard field(257, 6) == Array("ustar".utf8), header[156] == UInt8(ascii: "0"), let size = octal(124, 12), size >= 0 else {
            throw .damaged("not a ustar file entry")
        }
        let prefix = field(345, 155)
        let name = String(decoding: prefix.isEmpty ? field(0, 100) : prefix + [UInt8(ascii: "/")] + field(0, 100), as: UTF8.self)
        // Byte for byte what `encode` makes of these values: the checksum alone misses a change
        // inside its own field (a leading '0' turned space, its space turned NUL), and the
        // trailer's header is under no other hash.
        guard let mode = octal(100, 8), let time = octal(136, 12),
              (try? encode(name: name, size: size, mode: Int(mode), modificationTime: Int(time))) == header else {
            throw .damaged("a tar header is not in the form this program writes")
        }
        return (name, size)
    }
}

import Foundation

/// The digest of a file read in fixed-size chunks: memory stays flat whatever the file's size.
public enum FileDigest {
    public static func compute(path: String, algorithm: DigestAlgorithm, chunkSize: Int = 1 << 16) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var hasher = StreamingHasher(algorithm)
        while let chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty { hasher.update(chunk) }
        return hasher.finalize()
    }
}

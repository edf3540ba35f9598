import Crypto
import Foundation

/// The digest of a file read in fixed-size chunks: memory stays flat whatever the file's size.
public enum FileDigest {
    public static func compute(path: String, algorithm: DigestAlgorithm, chunkSize: Int = 1 << 16) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        func run<H: HashFunction>(_ hasher: inout H) throws -> [UInt8] {
            while let chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty { hasher.update(data: chunk) }
            return Array(hasher.finalize())
        }
        switch algorithm {
        case .sha256: var hasher = SHA256(); return try run(&hasher)
        case .sha384: var hasher = SHA384(); return try run(&hasher)
        case .sha512: var hasher = SHA512(); return try run(&hasher)
        }
    }
}

import DurableFiles

/// The digest of a file read in fixed-size chunks: memory stays flat whatever the file's size.
package enum FileDigest {
    package static func compute(path: String, algorithm: DigestAlgorithm, chunkSize: Int = 1 << 16) throws -> [UInt8] {
        var hasher = StreamingHasher(algorithm)
        try POSIXFile.readChunks(ofFile: path, chunkSize: chunkSize) { hasher.update(bufferPointer: $0) }
        return hasher.finalize()
    }
}

import CZlib

/// zlib's deflate over a buffer (RFC 1950 wrapper): the FlateDecode streams we write into PDFs
/// (embedded fonts, images). The inputs are our own, bounded by the callers' limits.
public enum Deflater {
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public let status: Int32
        public var description: String { "nén zlib thất bại / zlib deflate failed (status \(status))" }
    }

    public static func deflate(_ input: [UInt8], level: Int32 = Z_BEST_COMPRESSION) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard deflateInit_(&stream, level, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(status: Z_STREAM_ERROR)
        }
        defer { deflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var input = input
        let status: Int32 = input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = uInt(chunkBuffer.count)
                    return CZlib.deflate(&stream, Z_FINISH)
                }
                output += chunk.prefix(chunk.count - Int(stream.avail_out))
                // Z_OK with Z_FINISH: the output buffer filled up; go on.
                if status != Z_OK { return status }
            }
        }
        guard status == Z_STREAM_END else { throw Failure(status: status) }
        return output
    }
}

/// CRC-32 (ISO 3309, as PNG chunks and gzip use it), zlib's implementation.
public enum CRC32 {
    public static func checksum<Bytes: Collection>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        let value: UInt? = bytes.withContiguousStorageIfAvailable { buffer in
            CZlib.crc32(0, buffer.baseAddress, uInt(buffer.count))
        }
        if let value { return UInt32(truncatingIfNeeded: value) }
        return checksum(Array(bytes))
    }
}

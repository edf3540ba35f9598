import CZlib

/// zlib's deflate over a buffer (RFC 1950 wrapper): the FlateDecode streams we write into PDFs
/// (embedded fonts, images). The inputs are our own, bounded by the callers' limits.
package enum Deflater {
    package struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        package let status: Int32
        package var description: String { "nén zlib thất bại / zlib deflate failed (status \(status))" }
    }

    package static func deflate(_ input: [UInt8], level: Int32 = Z_BEST_COMPRESSION) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard deflateInit_(&stream, level, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(status: Z_STREAM_ERROR)
        }
        defer { deflateEnd(&stream) }
        // Z_OK with Z_FINISH: the output window filled up; go on.
        let (status, output) = pumpZStream(&stream, input: input, step: { CZlib.deflate(&$0, Z_FINISH) }) { status, _, _ in status == Z_OK ? nil : status }
        guard status == Z_STREAM_END else { throw Failure(status: status) }
        return output
    }
}

/// CRC-32 (ISO 3309, as PNG chunks and gzip use it), zlib's implementation.
package enum CRC32 {
    package static func checksum<Bytes: Collection>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        let value: UInt? = bytes.withContiguousStorageIfAvailable { buffer in
            CZlib.crc32(0, buffer.baseAddress, uInt(buffer.count))
        }
        if let value { return UInt32(truncatingIfNeeded: value) }
        return checksum(Array(bytes))
    }
}

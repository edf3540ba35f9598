import CZlib

/// zlib's inflate over a buffer, with a ceiling on the output: the one decompressor for a PIV
/// token's gzipped certificate (RFC 1952) and a PDF's FlateDecode streams (RFC 1950). The input
/// is untrusted either way, so it must never make us allocate without bound.
package enum Inflater {
    package enum Format: Sendable {
        /// gzip header and trailer, CRC-32 checked.
        case gzip
        /// zlib header and Adler-32 trailer.
        case zlib
    }

    package enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case corrupt(String)
        /// The input ended before the stream did (no trailer).
        case truncated(partial: [UInt8])
        case tooLarge(limit: Int)

        package var description: String {
            switch self {
            case .corrupt(let reason): "dữ liệu nén hỏng / corrupt compressed data (\(reason))"
            case .truncated: "dữ liệu nén bị cắt cụt / truncated compressed data"
            case .tooLarge(let limit): "dữ liệu giải nén quá \(limit) byte / inflated data larger than \(limit) bytes"
            }
        }
    }

    package static func inflate(_ input: [UInt8], format: Format, limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS expects a gzip wrapper; MAX_WBITS a zlib one.
        let windowBits = format == .gzip ? 16 + MAX_WBITS : MAX_WBITS
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt("inflateInit2")
        }
        defer { inflateEnd(&stream) }
        let (result, output) = pumpZStream(&stream, input: input, step: { CZlib.inflate(&$0, Z_NO_FLUSH) }) { status, output, message -> Result<Void, Failure>? in
            if output.count > limit { return .failure(.tooLarge(limit: limit)) }
            switch status {
            case Z_STREAM_END: return .success(())
            case Z_OK: return nil
            // No progress possible: the input ended before the stream did.
            case Z_BUF_ERROR: return .failure(.truncated(partial: output))
            default: return .failure(.corrupt(message ?? "zlib status \(status)"))
            }
        }
        try result.get()
        return output
    }
}

import CZlib

/// Inflates a gzip member (RFC 1952) in memory, with a ceiling on the output: a PIV certificate
/// object marked compressed (CertInfo bit 0) holds a gzipped DER certificate of a few KB, and a
/// hostile card must not make us allocate without bound.
public enum GzipInflater {
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case corrupt(String)
        case truncated
        case tooLarge(limit: Int)

        public var description: String {
            switch self {
            case .corrupt(let reason): "dữ liệu nén hỏng / corrupt gzip data (\(reason))"
            case .truncated: "dữ liệu nén bị cắt cụt / truncated gzip data"
            case .tooLarge(let limit): "dữ liệu giải nén quá \(limit) byte / inflated data larger than \(limit) bytes"
            }
        }
    }

    public static func inflate(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header and trailer (and check its CRC-32), not raw zlib.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt("inflateInit2")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var input = input
        let result: Result<Void, Failure> = input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = uInt(chunkBuffer.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                output += chunk.prefix(chunk.count - Int(stream.avail_out))
                if output.count > limit { return .failure(.tooLarge(limit: limit)) }
                switch status {
                case Z_STREAM_END: return .success(())
                case Z_OK: continue
                // No progress possible: the input ended before the gzip member did.
                case Z_BUF_ERROR: return .failure(.truncated)
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib \(status)"
                    return .failure(.corrupt(message))
                }
            }
        }
        try result.get()
        return output
    }
}

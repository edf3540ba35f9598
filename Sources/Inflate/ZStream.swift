import CZlib

/// The loop zlib's inflate and deflate share: feed the whole input, call `step` with a fresh
/// 16 KB output window each time, collect what it wrote, until `decide` (given the status, the
/// output so far and zlib's message) returns a verdict instead of nil.
func pumpZStream<Verdict>(_ stream: inout z_stream, input: [UInt8], step: (inout z_stream) -> Int32,
                          decide: (_ status: Int32, _ output: [UInt8], _ message: String?) -> Verdict?) -> (verdict: Verdict, output: [UInt8]) {
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    var input = input
    let verdict: Verdict = input.withUnsafeMutableBufferPointer { inputBuffer in
        stream.next_in = inputBuffer.baseAddress
        stream.avail_in = uInt(inputBuffer.count)
        while true {
            let status: Int32 = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                stream.next_out = chunkBuffer.baseAddress
                stream.avail_out = uInt(chunkBuffer.count)
                return step(&stream)
            }
            output += chunk.prefix(chunk.count - Int(stream.avail_out))
            if let verdict = decide(status, output, stream.msg.map { String(cString: $0) }) { return verdict }
        }
    }
    return (verdict, output)
}

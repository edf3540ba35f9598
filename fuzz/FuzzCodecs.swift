// libFuzzer entry for the pure codecs of TokenDriver (BER-TLV, APDUs, PIV objects): a card's
// answer is untrusted input, so every byte string must give a value or an error, never a crash,
// a hang or an out-of-bounds read (AddressSanitizer watches). Built and run by scripts/fuzz-codecs.

@_cdecl("LLVMFuzzerTestOneInput")
// `public`: the one entry libFuzzer calls by its C name, kept exported by the optimized build.
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))

    // TLV: whatever parses must survive a round trip through our encoder.
    if let items = try? TLV.parseAll(bytes) {
        let reencoded = items.flatMap(\.encoded)
        guard let again = try? TLV.parseAll(reencoded), again == items else {
            fatalError("TLV round trip changed the value")
        }
    }

    // Command APDUs: a parsed command encodes back to a command that parses to itself.
    if let command = try? CommandAPDU(wireBytes: bytes), let wire = try? command.encoded() {
        guard let again = try? CommandAPDU(wireBytes: wire), again == command else {
            fatalError("APDU round trip changed the command")
        }
    }

    _ = try? ResponseAPDU(wireBytes: bytes)
    _ = try? PIV.certificateObject(bytes)
    _ = try? PIV.signature(fromAuthenticateResponse: bytes)

    // The GET RESPONSE loop fed with arbitrary answers: it must finish or fail, never loop.
    if bytes.count >= 2 {
        var assembler = ResponseAssembler(command: PIV.getData(PIV.chuidObject))
        var remaining = bytes[...]
        var steps = 0
        loop: while let first = remaining.first, remaining.count >= 2 {
            let length = Int(first) % 8
            let piece = Array(remaining.dropFirst().prefix(length + 2))
            remaining = remaining.dropFirst(1 + piece.count)
            guard piece.count >= 2, let answer = try? ResponseAPDU(wireBytes: piece) else { break }
            switch try? assembler.received(answer) {
            case .finished?, nil: break loop
            case .send?: steps += 1
            }
            if steps > 10_000 { fatalError("GET RESPONSE loop does not end") }
        }
    }
    return 0
}

// libFuzzer entry for the edXML reader: a received package is untrusted input, so every byte
// string must give a package or an EdXMLError — never a crash, a hang or an out-of-bounds access
// (AddressSanitizer watches our code; libxml2 is the system library). Built and run by
// scripts/fuzz-edxml, from the parsing sources only (no swift-crypto, so no attachment hashes).

@_cdecl("LLVMFuzzerTestOneInput")
// `public`: the one entry libFuzzer calls by its C name, kept exported by the optimized build.
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    var limits = ReadLimits()
    limits.maxAttachmentBytes = 1 << 20
    do {
        let parsed = try SafeParser.parse(bytes: bytes, limits: limits, output: .discard, keepAttachmentText: false)
        var parser = PackageParser(parsed: parsed)
        let package = try parser.parse()
        // Judging the fields must not trap either (lengths, dates, codes of any text).
        switch package {
        case .document(let document): _ = document.findings()
        case .status(let status): _ = status.findings()
        }
    } catch is EdXMLError {
        return 0
    } catch {
        fatalError("an error that is not an EdXMLError: \(error)")
    }
    return 0
}

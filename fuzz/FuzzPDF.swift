// libFuzzer entry for the PDF reader (lexer, object parser, cross-reference tables and streams,
// object streams, Flate and predictors, the page tree and form walks): a PDF that arrives from
// outside is untrusted input, so every byte string must give a document or a `PDFError` — never a
// crash, a hang, runaway memory or an out-of-bounds read (AddressSanitizer watches). Built and
// run by scripts/fuzz-pdf.

@_cdecl("LLVMFuzzerTestOneInput")
// `public`: the one entry libFuzzer calls by its C name, kept exported by the optimized build.
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))

    // The object parser alone, and its round trip through the serializer.
    var parser = PDFParser(bytes: bytes + [0x0A])
    if let object = try? parser.parseObject() {
        let written = PDFSerializer.bytes(object)
        var again = PDFParser(bytes: written + [0x0A])
        guard let reread = try? again.parseObject(), reread == object else {
            fatalError("serializer round trip changed \(object)")
        }
    }

    // The whole reader, as signing uses it.
    guard let document = try? PDFDocument(source: PDFMemorySource(bytes)) else { return 0 }
    _ = try? document.pageCount()
    _ = try? document.page(1)
    _ = try? document.formFields()
    _ = try? document.acroForm()
    for number in 0..<min(document.objectCount, 256) {
        if case .stream(let stream)? = try? document.resolve(PDFReference(number)) {
            _ = try? document.decodedData(of: stream, objectNumber: number, limit: 1 << 20)
        }
    }
    return 0
}

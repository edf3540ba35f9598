@testable import DocumentSigning
import Foundation
import XCTest

/// The PDF reader on its own (no tools needed): the lexer's vectors, a byte-exact round trip
/// through the serializer, every cross-reference layout, and bad input ending in a `PDFError`.
final class PDFReaderTests: XCTestCase {
    func parse(_ text: String) throws -> PDFObject {
        var parser = PDFParser(bytes: Array(text.utf8) + [0x0A])
        return try parser.parseObject()
    }

    func testObjectVectors() throws {
        XCTAssertEqual(try parse("42"), .integer(42))
        XCTAssertEqual(try parse("-.5"), .real("-.5"))
        XCTAssertEqual(try parse("+17"), .integer(17))
        XCTAssertEqual(try parse("/A#20B#2f"), .name(PDFName(bytes: Array("A B/".utf8))))
        XCTAssertEqual(try parse("(a(b)c\\)\\n\\101\\0611)"), .string(Array("a(b)c)\nA11".utf8), hex: false))
        XCTAssertEqual(try parse("(line\r\nbreak\\\r\njoined)"), .string(Array("line\nbreakjoined".utf8), hex: false))
        XCTAssertEqual(try parse("<48 65 6C6C 6F7>"), .string(Array("Hello".utf8) + [0x70], hex: true))
        XCTAssertEqual(try parse("[1 0 R 2 5 R 3 (x)]"), .array([.reference(PDFReference(1)), .reference(PDFReference(2, 5)), .integer(3), .string([0x78], hex: false)]))
        XCTAssertEqual(try parse("<</A 1 % comment\n/B[true false null]/C<</D/E>>>>"), .dictionary(PDFDictionary([
            ("A", .integer(1)), ("B", .array([.boolean(true), .boolean(false), .null])), ("C", .dictionary(PDFDictionary([("D", .name("E"))]))),
        ])))
        XCTAssertEqual(try parse("99999999999999999999999"), .real("99999999999999999999999"))
        XCTAssertThrowsError(try parse(String(repeating: "[", count: 500))) { XCTAssertTrue("\($0)".contains("nesting")) }
        XCTAssertThrowsError(try parse("<4G>"))
        XCTAssertThrowsError(try parse(")"))
    }

    func testSerializerRoundTripIsByteExact() throws {
        let samples = ["<</Type/Sig/Name(Nguy\\(n\\)\\\\)/Hex<00FF10>/N[1 -2.50 .5 true null 3 0 R]/Sub<</A#20B/C>>>>",
                       "[/Odd#23Name(x\\r)<>/A 1 -2 3 0 R/B]"]
        for sample in samples {
            let object = try parse(sample)
            let written = PDFSerializer.bytes(object)
            XCTAssertEqual(String(decoding: written, as: UTF8.self), sample)
            var again = PDFParser(bytes: written + [0x0A])
            XCTAssertEqual(try again.parseObject(), object)
        }
    }

    func testClassicTableWithCRLFJunkInheritanceAndForm() throws {
        var pdf = TestPDF.threePages()
        pdf.lineEnd = "\r\n"
        pdf.junkAfterEOF = Array("\r\n<html>mail gateway footer</html>\r\n".utf8)
        let document = try PDFDocument(source: PDFMemorySource(pdf.bytes()))
        XCTAssertEqual(document.headerVersion, "1.7")
        XCTAssertEqual(try document.pageCount(), 3)
        let second = try document.page(2)
        XCTAssertEqual(second.reference, PDFReference(6))
        XCTAssertEqual(second.box, [0, 0, 595.28, 841.89], "MediaBox inherited from the root")
        XCTAssertEqual(second.rotation, 90)
        XCTAssertNotNil(second.inherited["Resources"], "Resources inherited")
        XCTAssertEqual(try document.page(3).reference, PDFReference(8))
        XCTAssertThrowsError(try document.page(4)) { XCTAssertTrue("\($0)".contains("page 4 does not exist")) }
        let fields = try document.formFields()
        XCTAssertEqual(fields.names, ["So van ban"])
        XCTAssertEqual(fields.signatures, [])
        // A stream's data is where its dictionary says.
        guard case .stream(let stream) = try document.resolve(PDFReference(5)) else { return XCTFail("object 5 is a stream") }
        XCTAssertEqual(String(decoding: try document.decodedData(of: stream, objectNumber: 5), as: UTF8.self),
                       "BT /F1 18 Tf 72 760 Td (Quyet dinh so 123 trang mot) Tj ET")
    }

    func testCrossReferenceStreamWithObjectStreamAndPNGPredictor() throws {
        let pdf = TestPDF.threePages()
        let document = try PDFDocument(source: PDFMemorySource(pdf.bytes(.stream(compressed: [1, 2, 3, 4, 9]))))
        XCTAssertEqual(document.crossReferenceStyle, .stream)
        XCTAssertEqual(try document.pageCount(), 3)
        XCTAssertEqual(try document.dictionary(.reference(PDFReference(4)))?["BaseFont"], .name("Helvetica"))
        XCTAssertEqual(try document.formFields().names, ["So van ban"])
        XCTAssertEqual(document.objectCount, 14, "objects 1–11, the object stream 12, the xref stream 13")
    }

    func testHybridFileReadsObjectsOnlyTheHiddenStreamLists() throws {
        let pdf = TestPDF.threePages()
        let bytes = pdf.bytes(.hybrid(compressed: [3, 4, 9]))
        let document = try PDFDocument(source: PDFMemorySource(bytes))
        XCTAssertEqual(document.crossReferenceStyle, .table)
        XCTAssertEqual(try document.page(1).reference, PDFReference(3))
        XCTAssertEqual(try document.dictionary(.reference(PDFReference(4)))?["BaseFont"], .name("Helvetica"))
        XCTAssertEqual(try document.formFields().names, ["So van ban"])
    }

    func testPrevChainNewestRevisionWins() throws {
        let original = TestPDF.threePages().bytes()
        let first = TestPDF.appendUpdate(to: original, objects: [(4, "<</Type/Font/Subtype/Type1/BaseFont/Times-Roman>>")],
                                         prev: startxref(of: original), size: 12)
        let second = TestPDF.appendUpdate(to: first, objects: [(1, "<</Type/Catalog/Pages 2 0 R/Lang(vi)>>")],
                                          prev: startxref(of: first), size: 12)
        let document = try PDFDocument(source: PDFMemorySource(second))
        XCTAssertEqual(try document.catalog()["Lang"], .string(Array("vi".utf8), hex: false))
        XCTAssertEqual(try document.dictionary(.reference(PDFReference(4)))?["BaseFont"], .name("Times-Roman"))
        XCTAssertNil(try document.acroForm(), "the newest catalog has no form")
        XCTAssertEqual(document.startxref, startxref(of: second))
    }

    // MARK: Bad input

    func error(_ bytes: [UInt8], _ body: (PDFDocument) throws -> Void = { _ = try $0.pageCount() }) -> PDFError? {
        do {
            try body(try PDFDocument(source: PDFMemorySource(bytes)))
            return nil
        } catch let error as PDFError {
            return error
        } catch {
            XCTFail("not a PDFError: \(error)")
            return nil
        }
    }

    func testEveryTruncationGivesAnErrorOrTheSameDocument() throws {
        for layout: TestPDF.Layout in [.table, .stream(compressed: [1, 2, 9]), .hybrid(compressed: [3, 4])] {
            let bytes = TestPDF.threePages().bytes(layout)
            for length in 0..<bytes.count {
                let prefix = Array(bytes.prefix(length))
                do {
                    let document = try PDFDocument(source: PDFMemorySource(prefix))
                    // Only the end (`%%EOF`, a line end) may be missing from a prefix that reads.
                    XCTAssertEqual(try document.pageCount(), 3, "prefix \(length) of \(layout)")
                    XCTAssertGreaterThan(length, bytes.count - 8, "prefix \(length) read as a whole document")
                } catch is PDFError {
                } catch {
                    XCTFail("prefix \(length): \(error)")
                }
            }
        }
    }

    func testWrongOffsetsCyclesAndHugeLengthsAreClearErrors() throws {
        let bytes = TestPDF.threePages().bytes()
        let start = startxref(of: bytes)
        // The table says object 3 is 7 bytes later than it is.
        var shifted = bytes
        let entryStart = start + "xref\n0 12\n".utf8.count + 3 * 20
        let entry = Array(shifted[entryStart..<entryStart + 10])
        let wrong = Int(String(decoding: entry, as: UTF8.self))! + 7
        shifted.replaceSubrange(entryStart..<entryStart + 10, with: Array(String(format: "%010d", wrong).utf8))
        XCTAssertEqual(error(shifted), .objectNotFound(number: 3, generation: 0))

        // startxref beyond the end of the file.
        let keyword = bytes.lastIndex(of: UInt8(ascii: "s"))!
        let beyond = Array(bytes[..<keyword]) + Array("startxref\n\(bytes.count + 100000)\n%%EOF\n".utf8)
        XCTAssertEqual(error(beyond).map { if case .badCrossReference = $0 { true } else { false } }, true)

        // A /Prev that points back at its own section.
        let looping = TestPDF.appendUpdate(to: bytes, objects: [(4, "<<>>")], prev: 0, size: 12)
        // Same layout, so the same section offset: point /Prev there.
        let sectionStart = startxref(of: looping)
        let looped = TestPDF.appendUpdate(to: bytes, objects: [(4, "<<>>")], prev: sectionStart, size: 12)
        XCTAssertEqual(error(looped), .referenceCycle(number: -sectionStart))

        // A page tree whose kid is its own parent.
        var cyclic = TestPDF.threePages()
        cyclic.objects[9] = (10, Array("<</Type/Pages/Parent 2 0 R/Kids[6 0 R 2 0 R]/Count 2>>".utf8))
        XCTAssertEqual(error(cyclic.bytes()), .referenceCycle(number: 2))

        // A /Length far beyond the file: the data is found by its `endstream`.
        var huge = TestPDF.threePages()
        huge.objects[4] = (5, Array("<</Length 999999999999>>\nstream\nBT ET\nendstream".utf8))
        let hugeDocument = try PDFDocument(source: PDFMemorySource(huge.bytes()))
        guard case .stream(let stream) = try hugeDocument.resolve(PDFReference(5)) else { return XCTFail("a stream") }
        XCTAssertEqual(stream.dataLength, 5)
        // … and without one (the last stream of the file, so no later `endstream`), the error
        // names the object.
        huge.objects[10] = (11, Array("<</Length 999999999999>>\nstream\nBT ET\n".utf8))
        XCTAssertEqual(error(huge.bytes()) { _ = try $0.resolve(PDFReference(11)) }?.description.contains("object 11"), true)

        // A /Length that refers to itself.
        var selfLength = TestPDF.threePages()
        selfLength.objects[4] = (5, Array("<</Length 5 0 R>>\nstream\nBT ET\nendstream".utf8))
        XCTAssertEqual(error(selfLength.bytes()) { _ = try $0.resolve(PDFReference(5)) }, .referenceCycle(number: 5))
    }

    func testStreamsThatDoNotInflateAndInflationCeiling() throws {
        // An object stream whose data is not zlib.
        var pdf = TestPDF.threePages()
        let bytes = pdf.bytes(.stream(compressed: [4]))
        var corrupt = bytes
        let marker = Array("/Type/ObjStm".utf8)
        let at = corrupt.firstRange(of: marker)!.lowerBound
        let dataStart = corrupt[at...].firstRange(of: Array("stream\n".utf8))!.upperBound
        corrupt[dataStart + 2] ^= 0xFF  // the stored block's header: now an invalid block type
        XCTAssertEqual(error(corrupt) { _ = try $0.resolve(PDFReference(4)) }.map { if case .badStream = $0 { true } else { false } }, true)

        // A cross-reference stream that inflates to far more rows than its /Index declares.
        pdf = TestPDF()
        pdf.add(1, "<</Type/Catalog/Pages 2 0 R>>")
        pdf.add(2, "<</Type/Pages/Kids[]/Count 0>>")
        var file = Array("%PDF-1.5\n".utf8)
        var offsets: [Int] = []
        for (number, body) in pdf.objects {
            offsets.append(file.count)
            file += Array("\(number) 0 obj\n".utf8) + body + Array("\nendobj\n".utf8)
        }
        let rows = [UInt8](repeating: 0, count: 200_000)
        let data = zlibStored(rows)
        let xrefAt = file.count
        file += Array("3 0 obj\n<</Type/XRef/Size 4/W[1 4 2]/Root 1 0 R/Filter/FlateDecode/Length \(data.count)>>\nstream\n".utf8) + data
        file += Array("\nendstream\nendobj\nstartxref\n\(xrefAt)\n%%EOF\n".utf8)
        XCTAssertEqual(error(file).map { if case .limitExceeded = $0 { true } else { false } }, true)
    }

    func testNotAPDFAndNoStartxref() {
        XCTAssertEqual(error(Array("hello".utf8)), .notPDF)
        XCTAssertEqual(error(Array("%PDF-1.4\n1 0 obj<<>>endobj\n".utf8)), .noStartXref)
    }
}

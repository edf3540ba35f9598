import XCTest
@testable import DocumentSigning

/// `PDFDocument.checkSignable`, the question an intake door asks: every layout the reader reads
/// passes; every truncation, an encrypted trailer (newest or older revision) and a document
/// without a page to sign fail with the reason.
final class UnitSignableTests: XCTestCase {
    func failure(_ bytes: [UInt8]) -> PDFError? {
        do throws(PDFError) {
            try PDFDocument.checkSignable(PDFMemorySource(bytes))
            return nil
        } catch {
            return error
        }
    }

    let layouts: [TestPDF.Layout] = [.table, .stream(compressed: [1, 2, 9]), .hybrid(compressed: [3, 4])]

    func testEveryLayoutPasses() {
        for layout in layouts {
            XCTAssertNil(failure(TestPDF.threePages().bytes(layout)), "\(layout)")
        }
        var crlf = TestPDF.threePages()
        crlf.lineEnd = "\r\n"
        crlf.junkAfterEOF = Array("\r\n-- mail gateway footer --\r\n".utf8)
        XCTAssertNil(failure(crlf.bytes()))
    }

    func testEveryTruncationFailsOrIsTheWholeDocument() {
        for layout in layouts {
            let bytes = TestPDF.threePages().bytes(layout)
            for length in 0..<bytes.count where failure(Array(bytes.prefix(length))) == nil {
                XCTAssertGreaterThan(length, bytes.count - 8, "prefix \(length) of \(layout) passed")
            }
        }
        XCTAssertEqual(failure(Array("%PDF-1.4 test".utf8)), .noStartXref)
        XCTAssertEqual(failure(Array("Ủy ban nhân dân".utf8)), .notPDF)
        XCTAssertEqual(failure([]), .notPDF)
    }

    func testEncryptedInTheNewestOrAnOlderTrailerFails() {
        var pdf = TestPDF.threePages()
        pdf.add(12, "<</Filter/Standard/V 5/R 6/Length 256>>")
        pdf.trailerExtra = "/Encrypt 12 0 R"
        for layout in layouts { XCTAssertEqual(failure(pdf.bytes(layout)), .encrypted, "\(layout)") }
        // An update that leaves /Encrypt out still inherits it (§7.5.6).
        let original = pdf.bytes()
        let updated = TestPDF.appendUpdate(to: original, objects: [(5, "<<>>")], prev: startxref(of: original), size: 13)
        XCTAssertEqual(failure(updated), .encrypted)
    }

    func testNoPageToSignFails() {
        var pdf = TestPDF()
        pdf.add(1, "<</Type/Catalog/Pages 2 0 R>>")
        pdf.add(2, "<</Type/Pages/Kids[]/Count 0>>")
        guard case .structure? = failure(pdf.bytes()) else { return XCTFail("an empty page tree passed") }
        var noCatalog = TestPDF()
        noCatalog.add(1, "(not a dictionary)")
        guard case .structure? = failure(noCatalog.bytes()) else { return XCTFail("a catalog that is not a dictionary passed") }
    }
}

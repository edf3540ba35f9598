import DocumentSigning
import Foundation
import TestSupport
import XCTest
@testable import GatewayCore

/// The PDF check at the door (issue 13): what claims to be a PDF must be one the box can sign.
final class UnitPDFIntakeCheckTests: XCTestCase {
    /// Counts what the check reads, to show it stays on the structure whatever the file's size.
    final class CountingSource: PDFByteSource {
        let inner: PDFMemorySource
        var bytesRead = 0
        init(_ bytes: [UInt8]) { inner = PDFMemorySource(bytes) }
        var count: Int { inner.count }
        func read(at offset: Int, count: Int) throws -> [UInt8] {
            let bytes = try inner.read(at: offset, count: count)
            bytesRead += bytes.count
            return bytes
        }
    }

    func code(_ bytes: [UInt8], name: String = "Quyết định.pdf", contentType: String? = nil) -> IntakeError.Code? {
        do {
            try PDFIntakeCheck.check(PDFMemorySource(bytes), fileName: name, contentType: contentType)
            return nil
        } catch {
            return error.code
        }
    }

    /// `qpdf ARGS in out` on `bytes`; skips the test where qpdf is missing.
    func qpdf(_ bytes: [UInt8], _ arguments: [String]) throws -> [UInt8] {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/qpdf"), "needs qpdf (scripts/install-deps)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-pdfcheck-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        XCTAssertTrue(FileManager.default.createFile(atPath: directory + "/in.pdf", contents: Data(bytes)))
        let result = runProgram("/usr/bin/qpdf", arguments + [directory + "/in.pdf", directory + "/out.pdf"])
        XCTAssertEqual(result.status, 0, result.err)
        return Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/out.pdf")))
    }

    func testARealPDFPassesWhateverItsCrossReferenceLayout() throws {
        let pdf = SamplePDF.bytes("Quyết định số 12")
        XCTAssertNil(code(pdf))
        XCTAssertNil(code(try qpdf(pdf, ["--object-streams=generate"])), "cross-reference stream and object stream")
        XCTAssertNil(code(try qpdf(pdf, ["--linearize"])))
    }

    func testThe13BytePDFOfIssue13IsRefusedWithItsReason() throws {
        let fake = Array("%PDF-1.4 test".utf8)
        XCTAssertEqual(fake.count, 13)
        do {
            try PDFIntakeCheck.check(PDFMemorySource(fake), fileName: "Quyết định.pdf")
            XCTFail("accepted")
        } catch {
            XCTAssertEqual(error.code, .notAPDF)
            XCTAssertEqual(error.code.rawValue, "not_a_pdf")
            XCTAssertEqual(error.code.httpStatus, 400)
            XCTAssertFalse(error.code.isTransient)
            XCTAssertTrue(error.messageVi.hasPrefix("Tệp \"Quyết định.pdf\" không phải PDF hợp lệ: Không tìm thấy startxref"), error.messageVi)
            XCTAssertTrue(error.messageEn.hasPrefix("\"Quyết định.pdf\" is not a valid PDF: no startxref"), error.messageEn)
            XCTAssertTrue(error.messageVi.contains("in) lại ra PDF"), error.messageVi)
        }
    }

    func testTruncatedPDFIsRefused() {
        let pdf = SamplePDF.bytes()
        for length in [pdf.count / 2, pdf.count - 30, 200] {
            XCTAssertEqual(code(Array(pdf.prefix(length))), .notAPDF, "cut at \(length)")
        }
    }

    func testBrokenStructureIsRefused() {
        // The catalog's /Pages names an object that is not there: the page to sign cannot be found.
        let pdf = Array(String(decoding: SamplePDF.bytes(), as: UTF8.self).replacingOccurrences(of: "/Pages 2 0 R", with: "/Pages 9 0 R").utf8)
        XCTAssertEqual(code(pdf), .notAPDF)
    }

    func testEncryptedPDFIsRefusedWithWhatToDo() throws {
        let pdf = SamplePDF.bytes()
        let (user, owner) = (TestSecrets.value("pdf.user-password"), TestSecrets.value("pdf.owner-password"))
        for arguments in [["--encrypt", user, owner, "256", "--"], ["--encrypt", "", owner, "128", "--use-aes=y", "--"]] {
            let encrypted = try qpdf(pdf, arguments)
            do {
                try PDFIntakeCheck.check(PDFMemorySource(encrypted), fileName: "Tờ trình.pdf")
                XCTFail("accepted \(arguments)")
            } catch {
                XCTAssertEqual(error.code, .encryptedPDF, "\(arguments)")
                XCTAssertEqual(error.code.rawValue, "encrypted_pdf")
                XCTAssertTrue(error.messageVi.contains("gỡ mật khẩu"), error.messageVi)
                XCTAssertTrue(error.messageEn.contains("Remove the password"), error.messageEn)
            }
        }
    }

    func testWhatClaimsToBeAPDF() {
        let notPDF = Array("Ủy ban nhân dân xã".utf8)
        XCTAssertEqual(code(notPDF, name: "a.pdf"), .notAPDF)
        XCTAssertEqual(code(notPDF, name: "A.PDF"), .notAPDF, "any case")
        XCTAssertEqual(code(notPDF, name: "a.bin", contentType: "application/pdf"), .notAPDF)
        XCTAssertEqual(code(notPDF, name: "a.bin", contentType: "Application/PDF; name=a.pdf"), .notAPDF)
        XCTAssertEqual(code(Array("%PDF-1.7 no more".utf8), name: "a.txt"), .notAPDF, "its first bytes")
        // Files that do not claim to be PDFs pass untouched.
        XCTAssertNil(code(notPDF, name: "Báo cáo.docx"))
        XCTAssertNil(code(notPDF, name: "a.bin", contentType: "application/octet-stream"))
        XCTAssertNil(code(notPDF, name: "pdf"))
        XCTAssertNil(code([], name: "a.xlsx"))
    }

    /// The check reads the tail, the cross-reference and the first page's path, not the file:
    /// a 20 MB PDF costs a few tens of kilobytes.
    func testALargePDFIsCheckedWithoutReadingIt() throws {
        let pdf = SamplePDF.bytes(size: 20_000_000)
        XCTAssertEqual(pdf.count, 20_000_000)
        let source = CountingSource(pdf)
        try PDFIntakeCheck.check(source, fileName: "Bản quét.pdf")
        XCTAssertLessThan(source.bytesRead, 200_000)
    }

    func testNewCodesAreInTheirPlace() {
        XCTAssertEqual(IntakeError.Code(rawValue: "not_a_pdf"), .notAPDF)
        XCTAssertEqual(IntakeError.Code(rawValue: "encrypted_pdf"), .encryptedPDF)
        XCTAssertEqual(IntakeError.Code.encryptedPDF.httpStatus, 400)
    }
}

import DocumentModel
import Foundation
import TestSupport
import XCTest
@testable import GatewayCore
import TimeJSON

/// Attachments on the local API, through the real daemon and curl: posted first under the
/// submission's Idempotency-Key, then the document that names them, stored as one document.
extension DaemonTests {
    func fileName(_ name: String) -> String { "X-Gateway-File-Name: " + Data(name.utf8).base64EncodedString() }

    func testAttachmentsPostedBeforeTheirDocumentAreStoredWithIt() throws {
        let key = "Idempotency-Key: qd-7-2026"
        let annex = SamplePDF.bytes("phu luc")
        let sheet = Array("cột A;cột B\n".utf8)
        let documentHeaders = ["-X", "POST", "--data-binary", "@" + write("qd7.pdf", SamplePDF.bytes("quyet dinh 7")), "-H",
                               metadata(#"{"file_name": "QĐ 7.pdf", "recipients": ["000.00.20.H13"], "attachments": ["Phụ lục 1.pdf", "Bảng số liệu.xlsx"]}"#),
                               "-H", key]

        // The document before its attachments: refused, with the names missing, nothing stored.
        let early = daemon.curl(documentHeaders)
        XCTAssertEqual(early.http, 400, early.body)
        XCTAssertEqual(daemon.errorCode(early.body), "missing_attachment")
        XCTAssertTrue(early.body.contains("Phụ lục 1.pdf") && early.body.contains("Bảng số liệu.xlsx"), early.body)

        let first = daemon.curl(["-X", "POST", "--data-binary", "@" + write("a1.pdf", annex), "-H", fileName("Phụ lục 1.pdf"), "-H", key],
                                path: "/v1/attachments")
        XCTAssertEqual(first.http, 202, first.body)
        let notPDF = daemon.curl(["-X", "POST", "--data-binary", "@" + write("bad.pdf", Array("%PDF-1.4 no".utf8)), "-H", fileName("x.pdf"), "-H", key],
                                 path: "/v1/attachments")
        XCTAssertEqual(daemon.errorCode(notPDF.body), "not_a_pdf")
        XCTAssertTrue(notPDF.body.contains("Tệp đính kèm") && notPDF.body.contains("x.pdf"), notPDF.body)
        let noKey = daemon.curl(["-X", "POST", "--data-binary", "@" + write("a2.xlsx", sheet), "-H", fileName("Bảng số liệu.xlsx")], path: "/v1/attachments")
        XCTAssertEqual(noKey.http, 400, noKey.body)

        let halfway = daemon.curl(documentHeaders)
        XCTAssertEqual(daemon.errorCode(halfway.body), "missing_attachment")
        XCTAssertTrue(halfway.body.contains("Bảng số liệu.xlsx") && !halfway.body.contains("Phụ lục 1.pdf"), halfway.body)

        let second = daemon.curl(["-X", "POST", "--data-binary", "@" + write("a2.xlsx", sheet), "-H", fileName("Bảng số liệu.xlsx"), "-H", key],
                                 path: "/v1/attachments")
        XCTAssertEqual(second.http, 202, second.body)
        // A refused document (empty) leaves its attachments staged for the next try.
        var emptyHeaders = documentHeaders
        emptyHeaders[2] = "@" + write("empty.pdf", [])
        let empty = daemon.curl(emptyHeaders)
        XCTAssertEqual(empty.http, 400, empty.body)
        XCTAssertTrue(empty.body.contains(#""code":"empty_document""#), empty.body)
        let stored = daemon.curl(documentHeaders)
        XCTAssertEqual(stored.http, 201, stored.body)
        let view = try GatewayJSON.decoder.decode(DocumentView.self, from: Data(stored.body.utf8))
        let id = view.document.id
        let shown = try GatewayJSON.decoder.decode(DocumentView.self, from: Data(daemon.curl([], path: "/v1/documents/\(id)").body.utf8))
        XCTAssertEqual(shown.attachments?.map(\.fileName), ["Phụ lục 1.pdf", "Bảng số liệu.xlsx"])
        let objects = daemon.dataDirectory + "/store/objects/"
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: objects + "\(id).a1"))), annex)
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: objects + "\(id).a2"))), sheet)
        XCTAssertTrue(daemon.cli(["show", id.description]).out.contains("2. Bảng số liệu.xlsx"))

        // A retry after a lost answer: the same document, though its attachments are gone from the holding.
        let retry = daemon.curl(documentHeaders)
        XCTAssertEqual(retry.http, 200, retry.body)
        XCTAssertEqual(try GatewayJSON.decoder.decode(DocumentView.self, from: Data(retry.body.utf8)).document.id, id)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory + "/store/tmp"), [], "nothing left staged")
    }

    func testSubmitWithAttachmentsThroughTheCLI() throws {
        let document = write("QĐ 8.pdf", SamplePDF.bytes("quyet dinh 8"))
        let annex = write("Phụ lục 1.pdf", SamplePDF.bytes("phu luc"))
        let sheet = write("Bảng số liệu.xlsx", Array("1;2\n".utf8))
        let submitted = daemon.cli(["submit", document, "--to", "000.00.20.H13", "--attachment", annex, "--attachment", sheet, "--json"])
        XCTAssertEqual(submitted.status, 0, submitted.err)
        let view = try GatewayJSON.decoder.decode(DocumentView.self, from: Data(submitted.out.utf8))
        XCTAssertEqual(view.document.metadata.attachments, ["Phụ lục 1.pdf", "Bảng số liệu.xlsx"])
        let shown = daemon.cli(["show", view.document.id.description])
        XCTAssertTrue(shown.out.contains("1. Phụ lục 1.pdf") && shown.out.contains("2. Bảng số liệu.xlsx"), shown.out)
        XCTAssertTrue(shown.out.contains("chưa ký / not signed"), shown.out)

        let notAPDF = daemon.cli(["submit", document, "--to", "000.00.20.H13", "--attachment", write("hỏng.pdf", Array("%PDF-1.4 x".utf8))])
        XCTAssertNotEqual(notAPDF.status, 0)
        XCTAssertTrue(notAPDF.err.contains("hỏng.pdf"), notAPDF.err)
    }
}

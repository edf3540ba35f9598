// Drag to move on the signing page: the one script is allowed by its hash and no other; the
// dragged place comes in the form's `rect.ID` field and is kept on the document before it is
// signed (audited); a place outside the page refuses the form and moves nothing.
@testable import Console
import Crypto
import DocumentModel
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import XCTest

extension ConsoleSigningTests {
    func testTheLeadersBoxIsDraggedIntoItsRectField() async throws {
        let (password, pin) = (password, pin)
        try await withSigning { rig in
            // A document whose page can be read (the rig's own are not whole PDFs: no outline to drag).
            let staged = try rig.store.beginDocument(expectedSize: nil)
            try staged.append(SamplePDF.bytes("Tờ trình"))
            let id = try await rig.store.commit(staged, IntakeRequest(
                fileName: "to-trinh.pdf", metadata: DocumentMetadata(recipients: [AgencyCode("000.00.20.H13")!], subject: "Tờ trình",
                                                                     signatures: [.leader, .organization]),
                source: .api, intakeKey: nil, cause: "test")).document.id
            var leader = ConsoleRouterTests.Browser(client: rig.client)
            try await ConsoleRouterTests.logIn(&leader, "an", password)
            _ = try await leader.get("/signing")
            let response = try await rig.client.execute(uri: "/signing", method: .get,
                                                        headers: [.cookie: leader.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")])
            let page = String(buffer: response.body)
            XCTAssertTrue(page.contains("data-doc=\"\(id)\" data-box=\"0.0,0.0,595.0,842.0\""), page)
            XCTAssertTrue(page.contains("data-rect=\"330.0,110.0,200.0,70.0\""), "the preset")
            XCTAssertTrue(page.contains("<input type=\"hidden\" name=\"rect.\(id)\" id=\"rect.\(id)\" value=\"\">"))
            // The policy allows exactly the page's script, by the hash of what the page carries.
            let hash = Data(SHA256.hash(data: Data(SigningDrag.script.utf8))).base64EncodedString()
            let policy = try XCTUnwrap(response.headers[.contentSecurityPolicy])
            XCTAssertTrue(policy.hasPrefix("default-src 'none';") && policy.hasSuffix("; script-src 'sha256-\(hash)'"), policy)
            XCTAssertFalse(policy.contains("unsafe-inline'; script") || policy.contains("script-src 'unsafe"), policy)

            // Outside the page: refused, nothing moved, nothing signed.
            var form = ["pin": pin, "reader": "mine", "doc.\(id)": "1", "rect.\(id)": "500,100,200,70"]
            let outside = try await leader.post("/signing", form)
            XCTAssertEqual(outside.status, .badRequest, outside.body)
            XCTAssertTrue(outside.body.contains("Vị trí chữ ký nằm ngoài trang"), outside.body)
            XCTAssertNil(try rig.store.document(id)?.metadata.rect)
            XCTAssertEqual(rig.tokens.signatures.withLock { $0 }, 0)

            // Dragged: kept on the document, audited, and the session signs with it.
            form["rect.\(id)"] = "72.5,600,200,70"
            let opened = try await leader.post("/signing", form)
            XCTAssertEqual(opened.status, .seeOther, opened.body)
            XCTAssertEqual(try rig.store.document(id)?.metadata.rect, [72.5, 600, 200, 70])
            let place = try XCTUnwrap(rig.store.accounts.auditEntries().first { $0.action == "place" })
            XCTAssertEqual([place.actor, place.subject, place.detail], ["an", id.description, "72.5,600.0,200.0,70.0"])
        }
    }

    func testADraggedPlaceIsFourNumbersInsideThePage() throws {
        XCTAssertEqual(SigningDrag.rect("0,0,595,842", inside: [0, 0, 595, 842]), [0, 0, 595, 842])
        XCTAssertNil(SigningDrag.rect("", inside: [0, 0, 595, 842]))
        XCTAssertNil(SigningDrag.rect("10,10,0,70", inside: [0, 0, 595, 842]))
        XCTAssertNil(SigningDrag.rect("10,10,200", inside: [0, 0, 595, 842]))
        XCTAssertNil(SigningDrag.rect("nan,10,200,70", inside: [0, 0, 595, 842]))
        XCTAssertNil(SigningDrag.rect("-5,10,200,70", inside: [0, 0, 595, 842]))
    }
}

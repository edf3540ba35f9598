import DocumentModel
import DurableFiles
import Foundation
import Logging
import XCTest
@testable import GatewayCore

/// The box's side of the audit anchors with the in-memory hub: the chain's head goes with the
/// package, and a receipt is kept only when the anchor it signs is a line of this box's chain.
final class RelayAuditAnchorUnitTests: XCTestCase {
    var fixture: StoreFixture!
    let hub = InMemoryHub()
    var context: RelayContext!

    override func setUpWithError() throws {
        fixture = try StoreFixture()
        let box = try BoxPKI(directory: fixture.directory)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let settings = RelayService.Settings(agencyCode: AgencyCode("000.00.20.H13")!, inboxFolder: fixture.directory + "/inbox")
        context = RelayContext(settings: settings, store: fixture.store, hub: hub,
                               boxSigner: try RelayContext.boxSigner(keyFile: box.key.key, certificateFile: box.key.chain),
                               checkReceipt: InMemoryHub.checkReceipt, logger: logger)
    }

    override func tearDown() { fixture.close() }

    func submission() throws -> RelayContext.Submission {
        let path = fixture.directory + "/package.edxml", bytes = Array("<edXML/>".utf8)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return .init(path: path, key: "k", sha256: try POSIXFile.sha256(ofFile: path).sha256, size: Int64(bytes.count))
    }

    func testTheHeadGoesWithThePackageAndComesBackSigned() async throws {
        try await fixture.submit([1, 2, 3])
        let head = try XCTUnwrap(try fixture.store.auditHead())
        XCTAssertEqual(head.entry, 2)
        let (_, receipt) = try await context.submitAndVerify(try submission(), worker: .general)
        XCTAssertEqual(hub.snapshot.auditHeads, [head])
        XCTAssertEqual(receipt.auditHead, head)
    }

    func testAReceiptAnchoringAnotherHistoryIsNotKept() async throws {
        try await fixture.submit([1, 2, 3])
        hub.update { $0.forgedAnchor = AuditAnchor(entry: 1, sha256: String(repeating: "ab", count: 32)) }
        let package = try submission()
        do throws(RelayError) {
            _ = try await context.submitAndVerify(package, worker: .general)
            XCTFail("a receipt whose anchor is not a line of the chain was accepted")
        } catch {
            XCTAssertEqual(error.code, .receiptInvalid)
            XCTAssertTrue(error.messageEnglish.contains("audit line 1"), error.messageEnglish)
        }
    }

    /// An older hub's receipt (no anchor) is kept as before.
    func testAReceiptWithoutAnchorIsStillKept() async throws {
        let (_, receipt) = try await context.submitAndVerify(try submission(), worker: .general)
        XCTAssertNil(receipt.auditHead, "an empty trail has no head to send")
        XCTAssertEqual(hub.snapshot.auditHeads, [nil])
    }
}

import SigningPolicy
import XCTest

/// Which signatures a document needs and the state after each: leader first, seal last.
final class SigningFlowTests: XCTestCase {
    func code(_ body: () throws -> Void) -> SigningRefusal.Code? {
        do { try body() } catch { return (error as? SigningRefusal)?.code }
        return nil
    }

    func testTheDefaultNeedsTheLeaderThenTheSeal() throws {
        var flow = try SigningFlow(signatures: nil)
        XCTAssertEqual(flow.required, [.leader, .organization])
        XCTAssertEqual(flow.state, .awaitingLeader)
        XCTAssertEqual(try flow.record(.leader), .awaitingSeal)
        XCTAssertEqual(try flow.record(.organization), .signed)
        XCTAssertEqual(flow.state.rawValue, "signed")
    }

    func testTheMetadataOrConfigurationDecides() throws {
        XCTAssertEqual(try SigningFlow(signatures: ["organization"]).state, .awaitingSeal)
        XCTAssertEqual(try SigningFlow(signatures: nil, defaults: [.organization]).state, .awaitingSeal)
        // The order written does not matter: the leader always signs first.
        XCTAssertEqual(try SigningFlow(signatures: ["organization", "Leader"]).required, [.leader, .organization])
        XCTAssertEqual(try SigningFlow(signatures: ["leader", "organization"]).state.rawValue, "awaiting_leader")
    }

    func testAListWithoutTheSealOrWithUnknownWordsIsRefused() {
        XCTAssertEqual(code { _ = try SigningFlow(signatures: ["leader"]) }, .badSignatureList)
        XCTAssertEqual(code { _ = try SigningFlow(signatures: []) }, .badSignatureList)
        XCTAssertEqual(code { _ = try SigningFlow(signatures: ["leader", "mayor", "organization"]) }, .badSignatureList)
        XCTAssertEqual(code { _ = try SigningFlow(signatures: ["organization", "organization"]) }, .badSignatureList)
        XCTAssertEqual(code { _ = try SigningFlow(signatures: ["attachment", "organization"]) }, .badSignatureList)
    }

    func testTheSealBeforeTheLeaderIsRefused() throws {
        let flow = try SigningFlow(signatures: nil)
        XCTAssertEqual(code { _ = try flow.after(.organization) }, .sealBeforeLeader)
        XCTAssertEqual(flow.state, .awaitingLeader, "nothing changed")
    }

    func testASecondSignatureInTheSameRoleIsRefused() throws {
        let sealed = try SigningFlow(signatures: nil, done: [.leader])
        XCTAssertEqual(code { _ = try sealed.after(.leader) }, .alreadySigned)
        let signed = try sealed.after(.organization)
        XCTAssertEqual(signed.state, .signed)
        XCTAssertEqual(code { _ = try signed.after(.organization) }, .alreadySigned)
    }

    func testALeaderCannotSignADocumentThatNeedsOnlyTheSeal() throws {
        let copy = try SigningFlow(signatures: ["organization"])
        XCTAssertEqual(code { _ = try copy.after(.leader) }, .signatureNotRequired)
        XCTAssertEqual(try copy.after(.organization).state, .signed)
    }

    func testAttachmentAndCopyRolesAreNotStepsOfTheFlow() throws {
        let flow = try SigningFlow(signatures: nil, done: [.leader])
        XCTAssertEqual(code { try flow.check(.attachment) }, .notADocumentSignature)
        XCTAssertEqual(code { try flow.check(.copy) }, .notADocumentSignature)
    }

    /// The store keeps what was signed; the flow rebuilt from it refuses what is out of order.
    func testAFlowRebuiltFromImpossibleHistoryIsRefused() {
        XCTAssertEqual(code { _ = try SigningFlow(signatures: nil, done: [.organization]) }, .sealBeforeLeader)
    }
}

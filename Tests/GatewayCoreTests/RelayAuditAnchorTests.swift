import DocumentModel
import Foundation
import GRDB
import TestSupport
import XCTest
@testable import GatewayCore

/// Issue 17, acceptance 1, with the real hubd: every package carries the box's audit anchor
/// (whole, and by tus), the hub signs it into its receipt, and `gatewayd audit verify` finds a
/// history rewritten consistently — every hash recomputed, which `store check` cannot see; and
/// `store check` the command names a line changed by hand.
extension RelayEndToEndTests {
    func testAConsistentRewriteOfTheAuditChainIsCaughtByTheHubsAnchors() async throws {
        let box = try await startHubAndBox()
        let small = try await submit(box, randomBytes(20_000), number: "201")
        let large = try await submit(box, randomBytes(1_500_000), number: "202")  // over 1 MiB: sent by tus
        try? await waitUntil(seconds: 90) { [self] in [small, large].allSatisfy { state(box, $0) == .delivered } }
        XCTAssertEqual([state(box, small), state(box, large)], [.delivered, .delivered], log(box.logPath) + log(directory + "/hubd.log"))

        // Beside the running daemon (read-only): both receipts carry an anchor of this chain.
        let verified = box.cli(["audit", "verify", "--json", "--hub-ca", pki.root])
        XCTAssertEqual(verified.status, 0, verified.out + verified.err)
        let report = try JSONDecoder().decode(AuditVerifyReport.self, from: Data(verified.out.utf8))
        XCTAssertEqual(report.receiptsChecked, 2)
        XCTAssertEqual(report.anchorsChecked, 2, verified.out)
        XCTAssertNil(report.chain.broken)

        box.process.terminate()
        box.process.waitUntilExit()
        // Whoever holds the file rewrites an early line and recomputes every hash after it.
        let queue = try DatabaseQueue(path: box.dataDirectory + "/gateway.sqlite")
        try await queue.write { db in
            try db.execute(sql: "UPDATE \"transition\" SET cause = 'nhập tay / typed in' WHERE seq = 1")
            var previous = AuditChain.genesis
            for row in try Row.fetchAll(db, sql: "SELECT seq, document_id, from_state, to_state, at, cause FROM \"transition\" ORDER BY seq") {
                let hash = AuditChain.hash(DocumentStore.auditEntry(row), previous: previous)
                try db.execute(sql: "UPDATE \"transition\" SET previous_hash = ?, hash = ? WHERE seq = ?", arguments: [previous, hash, row["seq"] as Int64])
                previous = hash
            }
        }
        try queue.close()

        let checked = box.cli(["store", "check", "--json"])
        XCTAssertEqual(checked.status, 0, "the rewritten chain is consistent: store check alone cannot tell\n" + checked.out + checked.err)
        let caught = box.cli(["audit", "verify", "--hub-ca", pki.root])
        XCTAssertEqual(caught.status, 1, caught.out + caught.err)
        XCTAssertTrue(caught.out.contains("the history up to it was rewritten"), caught.out)
        XCTAssertTrue(caught.out.contains("đã bị viết lại"), caught.out)

        // One line changed by hand without recomputing: the command itself names it, and fails.
        let edited = try DatabaseQueue(path: box.dataDirectory + "/gateway.sqlite")
        try await edited.write { db in try db.execute(sql: "UPDATE \"transition\" SET at = '2020-01-01 00:00:00.000' WHERE seq = 2") }
        try edited.close()
        let broken = box.cli(["store", "check"])
        XCTAssertEqual(broken.status, 1, broken.out + broken.err)
        XCTAssertTrue(broken.out.contains("audit chain broken at line 2 (document \(small))"), broken.out)
    }
}

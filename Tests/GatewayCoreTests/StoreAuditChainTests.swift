import DocumentModel
import Foundation
import GRDB
import XCTest
@testable import GatewayCore

/// The audit chain in the store: every line written through the store is chained, and a line
/// edited, deleted or moved by hand in the SQLite file is reported by `store check` at that line.
final class StoreAuditChainTests: XCTestCase {
    var fixture: StoreFixture!

    override func setUp() async throws { fixture = try StoreFixture() }
    override func tearDown() async throws { fixture.close() }

    /// Three documents, seven lines (intake, first signature wait, and a move): chained, clean.
    func makeHistory() async throws -> [DocumentID] {
        var ids: [DocumentID] = []
        for byte in [UInt8(1), 2, 3] { ids.append(try await fixture.submit([byte, byte], signed: true).document.id) }
        try fixture.store.transition(ids[0], to: .queued, cause: "test")
        return ids
    }

    /// The SQLite file as someone holding it would change it: a connection of its own, beside the store's.
    func byHand(_ sql: String) throws {
        let queue = try DatabaseQueue(path: fixture.layout.databasePath)
        try queue.write { db in try db.execute(sql: sql) }
        try queue.close()
    }

    func chainBreak() throws -> AuditChainStatus.Break? {
        let report = try fixture.store.check(ownsStore: true)
        XCTAssertEqual(report.isClean, report.auditChain?.broken == nil)
        return report.auditChain?.broken
    }

    func testLinesWrittenThroughTheStoreAreChained() async throws {
        _ = try await makeHistory()
        let report = try fixture.store.check(ownsStore: true)
        XCTAssertTrue(report.isClean, "\(report)")
        XCTAssertEqual(report.auditChain?.entriesChecked, 7)
        XCTAssertEqual(report.auditChain?.head, try fixture.store.auditHead())
        XCTAssertEqual(try fixture.store.auditHead()?.entry, 7)
    }

    /// `store check` names the first broken line: its number, its document, and what is wrong.
    func assertBreak(entry: Int64, document: DocumentID, en: String, vi: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let broken = try XCTUnwrap(try chainBreak(), file: file, line: line)
        XCTAssertEqual(broken.entry, entry, file: file, line: line)
        XCTAssertEqual(broken.documentId, document.description, file: file, line: line)
        XCTAssertTrue(broken.en.contains(en), broken.en, file: file, line: line)
        XCTAssertTrue(broken.vi.contains(vi), broken.vi, file: file, line: line)
    }

    func testAnEditedLineIsReported() async throws {
        let ids = try await makeHistory()
        try byHand("UPDATE \"transition\" SET cause = 'nothing happened' WHERE seq = 3")
        try assertBreak(entry: 3, document: ids[1], en: "changed after it was written", vi: "đã bị sửa")
    }

    func testADeletedLineIsReportedAtTheNextOne() async throws {
        let ids = try await makeHistory()
        try byHand("DELETE FROM \"transition\" WHERE seq = 4")
        try assertBreak(entry: 5, document: ids[2], en: "link to the line before (number 3) is broken", vi: "bị đứt")
    }

    /// Two lines swapped (their numbers exchanged), and one line moved to the end.
    func testReorderedLinesAreReported() async throws {
        _ = try await makeHistory()
        try byHand("UPDATE \"transition\" SET seq = -2 WHERE seq = 2; UPDATE \"transition\" SET seq = 2 WHERE seq = 3; UPDATE \"transition\" SET seq = 3 WHERE seq = -2")
        XCTAssertEqual(try chainBreak()?.entry, 2)

        let other = try StoreFixture()
        defer { other.close() }
        fixture.close()
        fixture = other
        _ = try await makeHistory()
        try byHand("UPDATE \"transition\" SET seq = 100 WHERE seq = 1")
        XCTAssertEqual(try chainBreak()?.entry, 2, "the line after the moved one no longer follows the start")
    }

    /// Lines written before migration v14 are chained by it, in their order, and new lines
    /// follow them.
    func testTheMigrationChainsTheExistingLines() async throws {
        let path = fixture.directory + "/old.sqlite"
        let queue = try DatabaseQueue(path: path)
        try StoreSchema.migrator.migrate(queue, upTo: "v13: documents of a state, newest first")
        let id = fixture.store.newDocumentID()
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO document (id, file_name, size, sha256, state, source, metadata, priority, received_at, updated_at)
                VALUES (?, 'a.pdf', 1, 'x', 'awaiting_leader', 'api', '{}', 0, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')
                """, arguments: [id])
            try db.execute(sql: "INSERT INTO \"transition\" (document_id, from_state, to_state, at, cause) VALUES (?, NULL, 'received', '2026-01-01 00:00:00.000', 'old')", arguments: [id])
            try db.execute(sql: "INSERT INTO \"transition\" (document_id, from_state, to_state, at, cause) VALUES (?, 'received', 'awaiting_leader', '2026-01-01 00:00:00.000', 'old')", arguments: [id])
        }
        try StoreSchema.migrator.migrate(queue)
        try await queue.write { db in
            try DocumentStore.appendAudit(id, from: "awaiting_leader", to: "awaiting_leader", at: Date(), cause: "new", in: db)
        }
        let status = try await queue.read { db in try DocumentStore.verifyAuditChain(db) }
        XCTAssertNil(status.broken)
        XCTAssertEqual(status.entriesChecked, 3)
        let first = AuditChain.hash(.init(seq: 1, documentId: id.description, fromState: nil, toState: "received",
                                          at: "2026-01-01 00:00:00.000", cause: "old"), previous: AuditChain.genesis)
        let stored = try await queue.read { db in try String.fetchOne(db, sql: "SELECT hash FROM \"transition\" WHERE seq = 1") }
        XCTAssertEqual(stored, first)
    }
}

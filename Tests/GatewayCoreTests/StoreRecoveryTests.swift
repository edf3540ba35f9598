import DurableFiles
import Foundation
import GRDB
import XCTest
@testable import GatewayCore

/// Start-up reads only what a crash left halfway; the reconcile of every row against its file
/// runs after READY and in `store check`, and each repairs every kind it did before.
extension StoreTests {
    /// Years of history (delivered documents, their content long archived elsewhere) cost
    /// start-up nothing: it reads the transient rows through index `document_state`.
    func testStartUpReadsOnlyTheTransientDocumentsOfALargeStore() async throws {
        let template = try await fixture.submit([1, 2, 3], signed: true).document
        try fixture.store.transition(template.id, to: .queued, cause: "test")
        try fixture.store.transition(template.id, to: .sending, cause: "test")
        let history = 3000, store: DocumentStore = fixture.store
        try await store.database.write { db in
            for _ in 0..<history {
                var record = template
                record.id = store.newDocumentID()
                record.state = .delivered
                try record.insert(db)
            }
        }
        let report = try fixture.store.recover()
        XCTAssertEqual(report.documentsChecked, 1, "only the sending document is read, not the \(history) delivered ones")
        XCTAssertEqual(report.resumed, [template.id.description])
        XCTAssertEqual(report.quarantined.map(\.id), [], "delivered rows without content are not start-up's business")
        let plan = try await store.database.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * FROM document WHERE state IN ('received', 'sending')")
                .map { $0["detail"] as String }.joined(separator: " ")
        }
        XCTAssertTrue(plan.contains("USING INDEX document_state"), plan)
        // The reconcile does read them all, and quarantines the rows whose content is gone.
        let full = try fixture.store.reconcile(batchSize: 500)
        XCTAssertEqual(full.documentsChecked, history + 1)
        XCTAssertEqual(full.quarantined.count, history)
    }

    /// The console's outbox tab (one state, newest first, a page): walked in order on
    /// `document_state_id` (migration v13), not sorted whole first.
    func testAStateTabIsReadInIndexOrder() async throws {
        let store = fixture.store
        let search = DocumentSearch(states: [.delivered], limit: 50)
        _ = try store.search(search)
        let plan = try await store.database.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * FROM document WHERE state IN ('delivered') ORDER BY id DESC LIMIT 50")
                .map { $0["detail"] as String }.joined(separator: " ")
        }
        XCTAssertTrue(plan.contains("document_state_id"), plan)
        XCTAssertFalse(plan.contains("TEMP B-TREE"), plan)
    }

    /// A transient document whose content is gone is quarantined at start-up, not resumed.
    func testStartUpQuarantinesATransientDocumentWithoutContent() async throws {
        let sending = try await fixture.submit([7, 8, 9], signed: true).document
        try fixture.store.transition(sending.id, to: .queued, cause: "test")
        try fixture.store.transition(sending.id, to: .sending, cause: "test")
        try Data([7, 8]).write(to: URL(fileURLWithPath: fixture.layout.objectPath(sending.id, version: 0)))
        let report = try fixture.store.recover()
        XCTAssertEqual(report.resumed, [])
        XCTAssertEqual(report.quarantined.map(\.id), [sending.id.description])
        XCTAssertTrue(report.quarantined[0].reason.contains("size"), report.quarantined[0].reason)
        XCTAssertEqual(try fixture.store.document(sending.id)?.state, .quarantined)
    }

    /// The pass after READY, then a reconcile in batches of two: orphans (one not named like a document), a
    /// missing file and a file of the wrong size are all repaired; temporary files are not its
    /// business (intake may be writing them) and stay.
    func testDeferredPassInSmallBatchesRepairsOrphansMissingAndWrongSize() async throws {
        let damage = try await damageTheStore()
        let reconciler = StoreReconciler(store: fixture.store, logger: fixture.store.logger)
        async let deferred = reconciler.runOnce()
        reconciler.doorsOpened()
        let finished = await deferred
        let pass = try XCTUnwrap(finished)
        try assertRepaired(pass, damage)
        XCTAssertEqual(pass.temporaryFilesRemoved, [])
        XCTAssertEqual(try fixture.temporaryFiles(), ["half-written.part"])
        XCTAssertTrue(try fixture.store.reconcile(batchSize: 2).isClean)

        let batched = try await damageTheStore()
        try assertRepaired(try fixture.store.reconcile(batchSize: 2), batched)
    }

    /// `gatewayd store check` (owning the store): the same repairs, and the temporary files.
    func testStoreCheckRepairsOrphansMissingWrongSizeAndTemporaryFiles() async throws {
        let damage = try await damageTheStore()
        let report = try fixture.store.check(ownsStore: true)
        try assertRepaired(report, damage)
        XCTAssertEqual(report.temporaryFilesRemoved, ["half-written.part"])
        XCTAssertEqual(try fixture.temporaryFiles(), [])
        XCTAssertTrue(try fixture.store.check(ownsStore: true).isClean)
    }

    /// Shutdown stops the pass between batches; what it did stays done.
    func testReconcileStopsBetweenBatchesWhenAsked() async throws {
        for index in 0..<5 { try await fixture.submit([UInt8(index)]) }
        var batches = 0
        let report = try fixture.store.reconcile(batchSize: 2, shouldContinue: {
            batches += 1
            return batches <= 1
        })
        XCTAssertEqual(report.documentsChecked, 2)
    }

    struct StoreDamage {
        var missing: DocumentID
        var wrongSize: DocumentID
        var kept: DocumentID
        var orphans: [String]
    }

    private func damageTheStore() async throws -> StoreDamage {
        let kept = try await fixture.submit(randomBytes(100)).document
        let missing = try await fixture.submit(randomBytes(100)).document
        let wrongSize = try await fixture.submit(randomBytes(100)).document
        try FileManager.default.removeItem(atPath: fixture.layout.objectPath(missing.id, version: 0))
        try Data([1]).write(to: URL(fileURLWithPath: fixture.layout.objectPath(wrongSize.id, version: 0)))
        let orphan = fixture.store.newDocumentID().description
        for name in [orphan, "not-a-document"] {
            _ = FileManager.default.createFile(atPath: fixture.layout.objectsDirectory + "/" + name, contents: Data([42]))
        }
        _ = FileManager.default.createFile(atPath: fixture.layout.temporaryDirectory + "/half-written.part", contents: Data([1]))
        return StoreDamage(missing: missing.id, wrongSize: wrongSize.id, kept: kept.id, orphans: [orphan, "not-a-document"])
    }

    private func assertRepaired(_ report: StoreCheckReport, _ damage: StoreDamage, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(Set(report.orphansMovedAside), Set(damage.orphans), file: file, line: line)
        XCTAssertEqual(Set(report.quarantined.map(\.id)), [damage.missing.description, damage.wrongSize.description], file: file, line: line)
        let reasons = Dictionary(uniqueKeysWithValues: report.quarantined.map { ($0.id, $0.reason) })
        XCTAssertTrue(reasons[damage.missing.description]?.contains("missing") ?? false, file: file, line: line)
        XCTAssertTrue(reasons[damage.wrongSize.description]?.contains("size") ?? false, file: file, line: line)
        for orphan in damage.orphans {
            XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.layout.objectsDirectory + "/" + orphan), file: file, line: line)
        }
        let aside = try FileManager.default.contentsOfDirectory(atPath: fixture.layout.orphansDirectory)
        XCTAssertTrue(damage.orphans.allSatisfy { name in aside.contains { $0.hasPrefix(name) } }, "\(aside)", file: file, line: line)
        XCTAssertEqual(try fixture.store.document(damage.missing)?.state, .quarantined, file: file, line: line)
        XCTAssertEqual(try fixture.store.document(damage.wrongSize)?.state, .quarantined, file: file, line: line)
        XCTAssertEqual(try fixture.store.document(damage.kept)?.state, .awaitingLeader, file: file, line: line)
    }
}

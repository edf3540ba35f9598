import DurableFiles
import Foundation
import GRDB
import XCTest
@testable import GatewayCore

final class StoreTests: XCTestCase {
    var fixture: StoreFixture!

    override func setUp() async throws { fixture = try StoreFixture() }
    override func tearDown() async throws { fixture.close() }

    func testCommittedDocumentIsDurableWithHashAndAuditTrail() async throws {
        let bytes = Array("Ủy ban nhân dân xã Hòa Tiến".utf8)
        let receipt = try await fixture.submit(bytes)
        XCTAssertFalse(receipt.duplicate)
        XCTAssertEqual(receipt.document.state, .awaitingLeader)
        XCTAssertEqual(receipt.document.size, Int64(bytes.count))
        let content = try Data(contentsOf: URL(fileURLWithPath: fixture.layout.objectPath(receipt.document.id, version: 0)))
        XCTAssertEqual(Array(content), bytes)
        XCTAssertEqual(try POSIXFile.sha256(ofFile: fixture.layout.objectPath(receipt.document.id, version: 0)).sha256, receipt.document.sha256)
        let history = try fixture.store.history(receipt.document.id)
        XCTAssertEqual(history.map(\.toState), [.received, .awaitingLeader])
        XCTAssertEqual(history.first?.fromState, nil)
        XCTAssertEqual(try fixture.temporaryFiles(), [])
        let stored = try XCTUnwrap(try fixture.store.document(receipt.document.id))
        XCTAssertEqual(stored.metadata.subject, "Về việc thử nghiệm")
    }

    func testAlreadySignedDocumentGoesToSigned() async throws {
        let receipt = try await fixture.submit([1, 2, 3], signed: true)
        XCTAssertEqual(receipt.document.state, .signed)
    }

    /// Asked of the writer, the one connection that commits: GRDB's pool sets it to NORMAL after
    /// `prepareDatabase` (DurableDatabase), which a reader's answer would not show.
    func testSQLiteRunsInWALWithFullSync() throws {
        let (mode, sync) = try fixture.store.database.writeWithoutTransaction { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        XCTAssertEqual(mode, "wal")
        XCTAssertEqual(sync, 2)  // FULL
    }

    func testIdempotencyKeyGivesOneDocumentAndRefusesDifferentBytes() async throws {
        let first = try await fixture.submit([1, 2, 3], key: "k-1")
        let again = try await fixture.submit([1, 2, 3], key: "k-1")
        XCTAssertTrue(again.duplicate)
        XCTAssertEqual(again.document.id, first.document.id)
        await assertIntakeError(.idempotencyConflict) { try await self.fixture.submit([9, 9], key: "k-1") }
        XCTAssertEqual(try fixture.store.list().count, 1)
        XCTAssertEqual(try fixture.temporaryFiles(), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: fixture.layout.objectsDirectory).count, 1)
    }

    func testConcurrentSubmissionsAreGroupCommittedAndAllKept() async throws {
        let payloads = (0..<64).map { index in Array("document \(index) ".utf8) + randomBytes(1000) }
        let fixture: StoreFixture = self.fixture
        let ids = try await withThrowingTaskGroup(of: DocumentID.self) { group in
            for payload in payloads { group.addTask { try await fixture.submit(payload).document.id } }
            var ids: [DocumentID] = []
            for try await id in group { ids.append(id) }
            return ids
        }
        XCTAssertEqual(Set(ids).count, 64)
        let stored = try fixture.store.list(limit: 1000)
        XCTAssertEqual(Set(stored.map(\.sha256)).count, 64)
    }

    func testLifecycleRefusesIllegalTransitionAndRecordsLegalOnes() async throws {
        let id = try await fixture.submit([1]).document.id
        XCTAssertThrowsError(try fixture.store.transition(id, to: .delivered, cause: "test")) { error in
            XCTAssertTrue(error is IllegalTransition, "\(error)")
        }
        XCTAssertThrowsError(try fixture.store.transition(id, to: .signed, cause: "test"), "the seal is always needed")
        try fixture.store.transition(id, to: .awaitingSeal, cause: "signed by the leader")
        try fixture.store.transition(id, to: .signed, cause: "sealed")
        try fixture.store.transition(id, to: .queued, cause: "packaged")
        try fixture.store.transition(id, to: .sending, cause: "relay")
        XCTAssertEqual(try fixture.store.history(id).map(\.toState), [.received, .awaitingLeader, .awaitingSeal, .signed, .queued, .sending])
    }

    /// Start-up removes the temporary files and resumes the interrupted send at once; the orphan
    /// and the missing content wait for the reconcile after READY, which repairs them.
    func testRecoveryRemovesTempFilesSetsOrphansAsideQuarantinesMissingAndResumesSending() async throws {
        let kept = try await fixture.submit([1, 2, 3]).document
        let lost = try await fixture.submit([4, 5, 6]).document
        let sending = try await fixture.submit([7, 8, 9], signed: true).document
        try fixture.store.transition(sending.id, to: .queued, cause: "test")
        try fixture.store.transition(sending.id, to: .sending, cause: "test")
        _ = FileManager.default.createFile(atPath: fixture.layout.temporaryDirectory + "/half-written.part", contents: Data([1]))
        _ = FileManager.default.createFile(atPath: fixture.layout.objectsDirectory + "/01a00000-0000-7000-8000-000000000000", contents: Data([42]))
        try FileManager.default.removeItem(atPath: fixture.layout.objectPath(lost.id, version: 0))

        let report = try fixture.store.recover()
        XCTAssertEqual(report.temporaryFilesRemoved, ["half-written.part"])
        XCTAssertEqual(report.documentsChecked, 1, "start-up reads the transient document only")
        XCTAssertEqual(report.orphansMovedAside, [], "left to the reconcile after READY")
        XCTAssertEqual(report.quarantined.map(\.id), [], "left to the reconcile after READY")
        XCTAssertEqual(report.resumed, [sending.id.description])
        XCTAssertEqual(try fixture.store.document(sending.id)?.state, .queued)

        let reconciler = StoreReconciler(store: fixture.store, logger: fixture.store.logger)
        async let deferred = reconciler.runOnce()
        reconciler.doorsOpened()
        let finished = await deferred
        let pass = try XCTUnwrap(finished)
        XCTAssertEqual(pass.documentsChecked, 3)
        XCTAssertEqual(pass.orphansMovedAside, ["01a00000-0000-7000-8000-000000000000"])
        XCTAssertEqual(pass.quarantined.map(\.id), [lost.id.description])
        XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.layout.orphansDirectory + "/01a00000-0000-7000-8000-000000000000"))
        XCTAssertEqual(try fixture.store.document(lost.id)?.state, .quarantined)
        XCTAssertNotNil(try fixture.store.document(lost.id)?.stateReason)
        XCTAssertEqual(try fixture.store.document(sending.id)?.state, .queued)
        XCTAssertEqual(try fixture.store.document(kept.id)?.state, .awaitingLeader)
        XCTAssertTrue(try fixture.store.recover().isClean)
        XCTAssertTrue(try fixture.store.reconcile().isClean)
    }

    func testCheckQuarantinesContentWhoseHashChanged() async throws {
        let document = try await fixture.submit([1, 2, 3]).document
        let other = try await fixture.submit([4, 5, 6]).document
        try Data([1, 2, 4]).write(to: URL(fileURLWithPath: fixture.layout.objectPath(document.id, version: 0)))  // same size, other bytes
        let report = try fixture.store.check(ownsStore: true)
        XCTAssertEqual(report.integrity, "ok")
        XCTAssertEqual(report.quarantined.map(\.id), [document.id.description])
        XCTAssertTrue(report.quarantined[0].reason.contains("hash"))
        XCTAssertFalse(report.isClean)
        XCTAssertEqual(try fixture.store.document(other.id)?.state, .awaitingLeader)
        XCTAssertTrue(try fixture.store.check(ownsStore: true).isClean)
    }

    func testSecondOwnerOfADataDirectoryIsRefused() throws {
        let first = try StoreLock(layout: fixture.layout)
        XCTAssertThrowsError(try StoreLock(layout: fixture.layout)) { error in
            guard case StoreLock.Failure.heldByAnotherProcess = error else { return XCTFail("\(error)") }
        }
        withExtendedLifetime(first) {}
    }
}

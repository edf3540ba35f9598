import DocumentModel
import DurableFiles
import Foundation
import Logging
import XCTest
@testable import GatewayCore

/// The relay's services over the in-memory hub and a test clock: the retry schedule, the link
/// going down and coming back, `Retry-After`, a refusal, tus resumption — each attempt driven
/// one at a time, so nothing sleeps and every time is exact.
final class UnitRelayServiceTests: XCTestCase {
    var fixture: StoreFixture!
    let hub = InMemoryHub()
    let clock = TestClock()
    var context: RelayContext!

    override func setUpWithError() throws {
        fixture = try StoreFixture()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var settings = RelayService.Settings(agencyCode: AgencyCode("000.00.20.H13")!, schedule: RetrySchedule(base: .seconds(2), cap: .seconds(60)),
                                             inboxFolder: fixture.directory + "/inbox")
        settings.wholeSubmissionLimit = 1000
        let clock = self.clock
        let box = try BoxPKI(directory: fixture.directory)
        // The jitter's draw fixed at one half: each wait is half its ceiling.
        context = RelayContext(settings: settings, store: fixture.store, hub: hub, boxSigner: try RelayContext.boxSigner(keyFile: box.key.key, certificateFile: box.key.chain),
                               checkReceipt: InMemoryHub.checkReceipt, now: { clock.now }, draw: { 0.5 }, logger: logger)
    }

    override func tearDown() { fixture.close() }

    /// A signed document queued with a package of `size` random bytes, as `PackagingService` leaves it.
    func queued(size: Int, lane: RelayLane = .thuong) async throws -> DocumentID {
        let receipt = try await fixture.submit(randomBytes(10), signed: true)
        let id = receipt.document.id
        let package = randomBytes(size)
        try Data(package).write(to: URL(fileURLWithPath: fixture.layout.packagePath(id)))
        try fixture.store.queueForRelay(OutboundRecord(
            documentId: id, packageKey: "key-\(id)", packageSHA256: try POSIXFile.sha256(ofFile: fixture.layout.packagePath(id)).sha256,
            packageSize: Int64(size), lane: lane, queuedAt: clock.now, uploadPath: nil, attempts: 0, nextAttemptAt: nil,
            lastError: nil, receipt: nil, deliveredAt: nil))
        return id
    }

    func outbound(_ id: DocumentID) throws -> OutboundRecord { try XCTUnwrap(try fixture.store.outbound(id)) }
    func state(_ id: DocumentID) throws -> DocumentState? { try fixture.store.document(id)?.state }

    func testFailedAttemptsBackOffOnTheSchedule() async throws {
        let uploads = UploadService(context: context)
        let id = try await queued(size: 100)
        hub.update { $0.linkDown = true }
        // Ceilings 2, 4, 8, 16, 32, 60 (the cap), 60 s; the draw takes half.
        for (attempt, wait) in [1, 2, 4, 8, 16, 30, 30].enumerated() {
            let before = clock.now
            await uploads.send(id, worker: .general)
            let record = try outbound(id)
            XCTAssertEqual(try state(id), .queued)
            XCTAssertEqual(record.attempts, attempt + 1)
            XCTAssertEqual(record.nextAttemptAt, before.addingTimeInterval(TimeInterval(wait)), "attempt \(attempt + 1)")
            XCTAssertTrue(record.lastError?.contains("Connection to the hub failed") == true, record.lastError ?? "")
            clock.advance(seconds: TimeInterval(wait))
        }
        XCTAssertEqual(RelayService(context: context).status().link, .down)
        XCTAssertEqual(try fixture.store.history(id).last?.cause, "attempt 7 failed (connection); next after 30 s")
    }

    func testLinkComingBackClearsTheRetryTimes() async throws {
        let uploads = UploadService(context: context)
        let first = try await queued(size: 100), second = try await queued(size: 100)
        hub.update { $0.linkDown = true }
        await uploads.send(first, worker: .general)
        await uploads.send(second, worker: .general)
        XCTAssertNotNil(try outbound(second).nextAttemptAt)
        XCTAssertEqual(context.linkState.link, .down)
        XCTAssertEqual(try fixture.store.relayCandidates(from: .thuong, now: clock.now, limit: 5).due, [], "both wait out a backoff")

        hub.update { $0.linkDown = false }
        clock.advance(seconds: 1)
        await uploads.send(first, worker: .general)
        XCTAssertEqual(try state(first), .delivered)
        XCTAssertEqual(try outbound(first).deliveredAt, clock.now)
        XCTAssertEqual(context.linkState.link, .up)
        XCTAssertEqual(context.linkState.since, clock.now)
        XCTAssertNil(try outbound(second).nextAttemptAt, "the link is back: the other document goes at once")
        XCTAssertEqual(try fixture.store.relayCandidates(from: .thuong, now: clock.now, limit: 5).due.map(\.id), [second])
    }

    func testRetryAfterIsAFloorForTheNextAttempt() async throws {
        let uploads = UploadService(context: context)
        let id = try await queued(size: 100)
        let busy = RelayErrorBody(code: .storage, vi: "Kho của hub đầy", en: "The hub's storage is full")
        hub.update { $0.refusals = [.fromHub(status: 503, body: Array(busy.encoded()), retryAfter: .seconds(120))] }
        await uploads.send(id, worker: .general)
        let record = try outbound(id)
        XCTAssertEqual(try state(id), .queued, "503 is transient")
        XCTAssertEqual(record.nextAttemptAt, clock.now.addingTimeInterval(120), "the hub's 120 s, not the schedule's 1 s")
        XCTAssertEqual(record.lastError, "Kho của hub đầy / The hub's storage is full")
        XCTAssertEqual(context.linkState.link, .down)

        clock.advance(seconds: 120)
        await uploads.send(id, worker: .general)
        XCTAssertEqual(try state(id), .delivered)
    }

    func testPermanentRefusalRejectsWithTheHubsReason() async throws {
        let uploads = UploadService(context: context)
        let id = try await queued(size: 100)
        let mismatch = RelayErrorBody(code: .senderMismatch, vi: "Chứng thư số của 000.00.20.H14 không gửi thay 000.00.20.H13 được",
                                      en: "000.00.20.H14's certificate cannot send as 000.00.20.H13")
        hub.update { $0.refusals = [.fromHub(status: 403, body: Array(mismatch.encoded()), retryAfter: nil)] }
        await uploads.send(id, worker: .general)
        let document = try XCTUnwrap(try fixture.store.document(id))
        XCTAssertEqual(document.state, .rejected)
        XCTAssertEqual(document.stateReason, mismatch.error.message)
        XCTAssertEqual(try fixture.store.history(id).last?.cause, "refused by the hub (sender_mismatch)")
        XCTAssertNil(try outbound(id).nextAttemptAt, "not retried")
        XCTAssertEqual(context.linkState.link, .unknown, "a refusal of one document says nothing about the link")
        XCTAssertEqual(hub.snapshot.stored.count, 0)
    }

    func testTusUploadResumesAfterABreak() async throws {
        let uploads = UploadService(context: context)
        let id = try await queued(size: 10_000)
        // The first PATCH breaks after 4,000 bytes; the driver asks where to go on (HEAD) and
        // sends only the rest.
        hub.update { $0.breakPatchesAfter = [4_000] }
        await uploads.send(id, worker: .general)
        XCTAssertEqual(try state(id), .delivered)
        let snapshot = hub.snapshot
        XCTAssertEqual(snapshot.calls, ["create", "patch", "head", "patch", "receipt"])
        XCTAssertEqual(snapshot.patchedBytes, 10_000, "each byte sent once")
        XCTAssertEqual(snapshot.stored, [try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture.layout.packagePath(id))))])
        XCTAssertEqual(try outbound(id).uploadPath, "/v1/uploads/1", "kept with the document")
    }

    func testTusUploadResumesAcrossAttemptsFromTheStoredPath() async throws {
        let uploads = UploadService(context: context)
        let id = try await queued(size: 10_000)
        // Three breaks in a row with nothing gained: the attempt ends as a failure (no progress),
        // and the next attempt resumes the same upload where the hub has it.
        hub.update { $0.breakPatchesAfter = [3_000, 0, 0] }
        await uploads.send(id, worker: .general)
        XCTAssertEqual(try state(id), .queued)
        let lastError = try outbound(id).lastError ?? ""
        XCTAssertTrue(lastError.contains("no progress"), lastError)
        XCTAssertEqual(try outbound(id).uploadPath, "/v1/uploads/1")
        XCTAssertEqual(try outbound(id).nextAttemptAt, clock.now.addingTimeInterval(1))

        clock.advance(seconds: 1)
        await uploads.send(id, worker: .general)
        XCTAssertEqual(try state(id), .delivered)
        XCTAssertEqual(hub.snapshot.calls.filter { $0 == "create" }.count, 1, "the same upload, resumed")
        XCTAssertEqual(hub.snapshot.patchedBytes, 10_000)
    }

    /// A clerk's status as `ClerkStatusService.record` leaves it: its package under the inbox, its row unsent.
    func clerkStatus(_ code: String, hubID: Int64) throws -> OutgoingStatusRecord {
        let file = "\(hubID).status-\(code).edxml"
        try Data(randomBytes(200)).write(to: URL(fileURLWithPath: fixture.layout.inboxDirectory + "/" + file))
        return try fixture.store.addOutgoingStatus(OutgoingStatusRecord(
            seq: nil, hubID: hubID, statusCode: code, description: nil, staff: nil, packageFile: file, packageKey: "status:\(code)",
            createdAt: clock.now, sentAt: nil, receipt: nil, lastError: nil, refused: false))
    }

    func testClerkStatusRefusedIsMarkedAndATransientFailureWaits() async throws {
        try FileManager.default.createDirectory(atPath: fixture.layout.inboxDirectory, withIntermediateDirectories: true)
        try fixture.store.saveInbound(InboundRecord(hubID: 7, kind: "document", packageKey: "k", sender: "000.00.00.H41", sha256: "", size: 0,
                                                    storedAt: clock.now, ackedAt: clock.now, statusSentAt: nil, statusReceipt: nil, folder: nil))
        let statuses = ClerkStatusService(context: context)
        let refused = try clerkStatus("03", hubID: 7), sent = try clerkStatus("04", hubID: 7)
        let unreadable = RelayErrorBody(code: .unreadablePackage, vi: "Gói hỏng", en: "Broken package")
        hub.update { $0.refusals = [.fromHub(status: 422, body: Array(unreadable.encoded()), retryAfter: nil)] }
        var failures = 0
        let retryAt = await statuses.sendPending(failures: &failures)
        XCTAssertNil(retryAt, "a refusal is final; the next status went on")
        let after = try fixture.store.outgoingStatuses(hubID: 7)
        XCTAssertEqual(after.first { $0.seq == refused.seq }?.refused, true)
        XCTAssertEqual(after.first { $0.seq == refused.seq }?.lastError, "Gói hỏng / Broken package")
        XCTAssertEqual(after.first { $0.seq == sent.seq }?.sentAt, clock.now)
        XCTAssertNotNil(after.first { $0.seq == sent.seq }?.receipt)

        // The link down: the same backoff as the documents', counted across turns.
        let waiting = try clerkStatus("05", hubID: 7)
        hub.update { $0.linkDown = true }
        let first = await statuses.sendPending(failures: &failures)
        XCTAssertEqual(first, clock.now.addingTimeInterval(1))
        let second = await statuses.sendPending(failures: &failures)
        XCTAssertEqual(second, clock.now.addingTimeInterval(2))
        XCTAssertEqual(failures, 2)
        hub.update { $0.linkDown = false }
        let back = await statuses.sendPending(failures: &failures)
        XCTAssertNil(back)
        XCTAssertEqual(failures, 0)
        XCTAssertNotNil(try fixture.store.outgoingStatuses(hubID: 7).first { $0.seq == waiting.seq }?.sentAt)
        let refusal = RelayError.fromHub(status: 422, body: Array(unreadable.encoded()), retryAfter: nil)
        XCTAssertEqual(refusal.code, .hub(.unreadablePackage))
        XCTAssertEqual(context.attemptFailed(refusal, failuresBefore: 5), .reject)
    }

    func testUnknownHubCodesAreClassedByStatus() {
        let newer = RelayError.fromHub(status: 409, body: Array(#"{"error":{"code":"newer_code","message":"x"}}"#.utf8), retryAfter: nil)
        XCTAssertEqual(newer.code, .http(status: 409, hubCode: "newer_code"))
        XCTAssertEqual(newer.code.description, "newer_code")
        XCTAssertEqual(newer.kind, .permanent)
        let proxyPage = RelayError.fromHub(status: 502, body: Array("<html>".utf8), retryAfter: nil)
        XCTAssertEqual(proxyPage.code.description, "http_502")
        XCTAssertEqual(proxyPage.kind, .transient)
        XCTAssertEqual(RelayError.connection(POSIXError(.ECONNREFUSED)).code, .connection)
    }

    func testDirectoryIsFetchedIntoTheStoreAndAFailureKeepsTheCopy() async throws {
        let refresher = DirectoryRefresher(context: context)
        hub.update { $0.directory = [.init(code: AgencyCode("000.00.00.H41")!, name: "UBND tỉnh Quảng Trị")] }
        try await refresher.refresh()
        XCTAssertEqual(try fixture.store.directoryEntries().map(\.name), ["UBND tỉnh Quảng Trị"])
        hub.update { $0.linkDown = true }
        do {
            try await refresher.refresh()
            XCTFail("the hub is away")
        } catch {
            XCTAssertEqual(error.code, .connection)
        }
        XCTAssertEqual(try fixture.store.directoryEntries().count, 1, "the stored copy stays in use")
    }

    func testInboxPollMarksTheLinkUpAndAnAwayHubIsTransient() async throws {
        let inbox = InboxService(context: context)
        try await inbox.pollOnce()
        XCTAssertEqual(context.linkState.link, .up)
        hub.update { $0.linkDown = true }
        do {
            try await inbox.pollOnce()
            XCTFail("the hub is away")
        } catch {
            XCTAssertEqual(error.kind, .transient)
        }
        XCTAssertEqual(hub.snapshot.calls, ["poll", "poll"])
    }
}

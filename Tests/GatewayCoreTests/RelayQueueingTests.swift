import DocumentModel
import DurableFiles
import EdXML
import Foundation
import XCTest
@testable import GatewayCore

/// Queueing for the relay against the real store and file system: the edXML package built from a
/// stored document (read back by the EdXML reader, attachment byte for byte), `signed → queued`
/// with its relay row, and a document the package cannot be built for.
final class RelayQueueingTests: XCTestCase {
    func submit(_ fixture: StoreFixture, _ bytes: [UInt8], number: String?, priority: Priority = .flash) async throws -> DocumentRecord {
        let staged = try fixture.store.beginDocument(expectedSize: Int64(bytes.count))
        try staged.append(bytes)
        let metadata = DocumentMetadata(recipients: [AgencyCode("000.00.00.H41")!], subject: "Về việc phòng chống bão số 9 — khẩn",
                                        number: number, notation: "QĐ-UBND", documentType: "Quyết định", priority: priority,
                                        signer: .init(fullName: "Nguyễn Văn An", position: "Chủ tịch"), signed: true)
        return try await fixture.store.commit(staged, IntakeRequest(fileName: "quyết định.pdf", metadata: metadata, source: .api,
                                                                   intakeKey: nil, cause: "test")).document
    }

    func testPackageIsBuiltStoredAndQueued() async throws {
        let fixture = try StoreFixture()
        defer { fixture.close() }
        let content = randomBytes(300_000)
        let document = try await submit(fixture, content, number: "125")
        XCTAssertEqual(document.state, .signed)

        let packager = OutboundPackager(agencyCode: AgencyCode("000.00.20.H13")!, agencyName: "UBND xã Hòa Tiến")
        let now = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18 18:06 in Vietnam
        let package = try packager.package(for: document, now: now)
        let box = try BoxPKI(directory: fixture.directory)
        let signer = try RelayContext.boxSigner(keyFile: box.key.key, certificateFile: box.key.chain)
        let (sha256, size) = try await packager.write(package, document: document, layout: fixture.layout, signer: signer)
        let path = fixture.layout.packagePath(document.id)
        XCTAssertEqual(try POSIXFile.sha256(ofFile: path).sha256, sha256)
        XCTAssertEqual(Int64(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int), size)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: fixture.layout.temporaryDirectory), [], "no temporary file left")

        let unpacked = fixture.directory + "/unpacked"
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        let read = try await PackageReader.read(path: path, unpackTo: unpacked)
        guard case .document(let back) = read.package else { return XCTFail("not a document package") }
        XCTAssertEqual(read.findings, [])
        XCTAssertEqual(back.header.from.organId, "000.00.20.H13")
        XCTAssertEqual(back.header.from.organName, "UBND xã Hòa Tiến")
        XCTAssertEqual(back.header.to.map(\.organId), ["000.00.00.H41"])
        XCTAssertEqual(back.header.subject, "Về việc phòng chống bão số 9 — khẩn", "Vietnamese diacritics survive")
        XCTAssertEqual(back.header.documentId, "000.00.20.H13,2026/11/18,125/QĐ-UBND")
        XCTAssertEqual(back.header.otherInfo.priority, 3)
        XCTAssertEqual(back.header.signerInfo?.fullName, "Nguyễn Văn An")
        XCTAssertEqual(read.attachments.count, 1)
        XCTAssertEqual(read.attachments.first?.info.name, "quyết định.pdf")
        let attachmentPath = try XCTUnwrap(read.attachments.first?.path)
        XCTAssertEqual(try [UInt8](Data(contentsOf: URL(fileURLWithPath: attachmentPath))), content, "attachment byte for byte")

        let generation = fixture.store.changes.generation
        try fixture.store.queueForRelay(OutboundRecord(
            documentId: document.id, packageKey: package.header.documentId!, packageSHA256: sha256, packageSize: size, lane: .hoaToc,
            queuedAt: now, uploadPath: nil, attempts: 0, nextAttemptAt: nil, lastError: nil, receipt: nil, deliveredAt: nil))
        XCTAssertNotEqual(fixture.store.changes.generation, generation, "queueing wakes the relay")
        XCTAssertEqual(try fixture.store.document(document.id)?.state, .queued)
        XCTAssertEqual(try fixture.store.outbound(document.id)?.packageKey, "000.00.20.H13,2026/11/18,125/QĐ-UBND")
        XCTAssertEqual(try fixture.store.relayCandidates(from: .hoaToc, now: now, limit: 5).due.map(\.id), [document.id])
        XCTAssertEqual(try fixture.store.history(document.id).last?.toState, .queued)

        // A restart in the middle of sending resumes as queued, with the upload path kept.
        var outbound = try XCTUnwrap(try fixture.store.outbound(document.id))
        outbound.uploadPath = "/v1/uploads/abc"
        try fixture.store.relayTransition(outbound, to: .sending, cause: "test")
        _ = try fixture.store.recover()
        XCTAssertEqual(try fixture.store.document(document.id)?.state, .queued)
        XCTAssertEqual(try fixture.store.outbound(document.id)?.uploadPath, "/v1/uploads/abc")
    }

    /// The workers' pick is read with SQL (not the whole queue): the order, the lanes each worker
    /// takes, documents waiting out a backoff, and sent or sending documents must match what
    /// `LaneScheduler` would choose from the full list.
    func testCandidatesAreTheSchedulersPickFromTheStore() async throws {
        let fixture = try StoreFixture()
        defer { fixture.close() }
        let base = Date(timeIntervalSince1970: 1_795_000_000)
        var ids: [DocumentID] = []
        // thuong (oldest), khan, thuong, hoaToc (in backoff until base+60), thuong (sending),
        // hoaToc (delivered), hoaToc (rejected)
        let plan: [(RelayLane, TimeInterval, Date?)] = [(.thuong, 0, nil), (.khan, 1, nil), (.thuong, 2, nil),
                                                        (.hoaToc, 3, base.addingTimeInterval(60)), (.thuong, 4, nil),
                                                        (.hoaToc, -2, nil), (.hoaToc, -1, nil)]
        for (index, (lane, offset, notBefore)) in plan.enumerated() {
            let document = try await submit(fixture, randomBytes(10), number: "\(index)")
            ids.append(document.id)
            try fixture.store.queueForRelay(OutboundRecord(
                documentId: document.id, packageKey: "key-\(index)", packageSHA256: "", packageSize: 10, lane: lane,
                queuedAt: base.addingTimeInterval(offset), uploadPath: nil, attempts: notBefore == nil ? 0 : 1,
                nextAttemptAt: notBefore, lastError: nil, receipt: nil, deliveredAt: nil))
        }
        let sending = try XCTUnwrap(try fixture.store.outbound(ids[4]))
        try fixture.store.relayTransition(sending, to: .sending, cause: "test")
        var delivered = try XCTUnwrap(try fixture.store.outbound(ids[5]))
        try fixture.store.relayTransition(delivered, to: .sending, cause: "test")
        delivered.deliveredAt = base
        try fixture.store.relayTransition(delivered, to: .delivered, cause: "test")
        var refused = try XCTUnwrap(try fixture.store.outbound(ids[6]))
        refused.lastError = "Sai mã / wrong code"
        try fixture.store.relayTransition(refused, to: .rejected, cause: "refused by the hub", reason: "Sai mã / wrong code")
        // The column-by-column write reads back as whole records and history.
        XCTAssertEqual(try fixture.store.outbound(ids[5])?.deliveredAt, base)
        XCTAssertEqual(try fixture.store.outbound(ids[6]), refused)
        let rejected = try XCTUnwrap(try fixture.store.document(ids[6]))
        XCTAssertEqual(rejected.state, .rejected)
        XCTAssertEqual(rejected.stateReason, "Sai mã / wrong code")
        XCTAssertEqual(try fixture.store.history(ids[6]).map(\.toState), [.received, .signed, .queued, .rejected])
        XCTAssertEqual(try fixture.store.history(ids[5]).map(\.toState), [.received, .signed, .queued, .sending, .delivered])
        XCTAssertThrowsError(try fixture.store.relayTransition(refused, to: .sending, cause: "test"), "rejected is final")

        let now = base.addingTimeInterval(10)
        let general = try fixture.store.relayCandidates(from: .thuong, now: now, limit: 10)
        XCTAssertEqual(general.due.map(\.id), [ids[1], ids[0], ids[2]], "urgent lane first, then oldest; not the sending one nor the backoff")
        XCTAssertEqual(general.nextRetry, base.addingTimeInterval(60), "fewer due than asked for: when the next one is due")
        let two = try fixture.store.relayCandidates(from: .thuong, now: now, limit: 2)
        XCTAssertEqual(two.due.map(\.id), [ids[1], ids[0]])
        XCTAssertNil(two.nextRetry, "a full answer has a document to send: no need to look further")

        let express = try fixture.store.relayCandidates(from: .khan, now: now, limit: 10)
        XCTAssertEqual(express.due.map(\.id), [ids[1]])
        let later = try fixture.store.relayCandidates(from: .khan, now: base.addingTimeInterval(61), limit: 10)
        XCTAssertEqual(later.due.map(\.id), [ids[3], ids[1]], "due again after its backoff, and Hỏa tốc goes first")
        XCTAssertNil(later.nextRetry)

        let scheduler = LaneScheduler()
        XCTAssertEqual(scheduler.next(for: .general, among: general.due, busy: [ids[1]], now: now), .send(ids[0]))

        let summary = try fixture.store.relayQueueSummary()
        XCTAssertEqual(summary.count, 5)
        XCTAssertEqual(summary.filter(\.sending).map(\.lane), [.thuong])
    }

    func testDocumentWithoutNumberCannotBePackaged() async throws {
        let fixture = try StoreFixture()
        defer { fixture.close() }
        let document = try await submit(fixture, randomBytes(100), number: nil)
        let packager = OutboundPackager(agencyCode: AgencyCode("000.00.20.H13")!, agencyName: nil)
        XCTAssertThrowsError(try packager.package(for: document, now: Date())) { error in
            let message = (error as? OutboundPackager.Refusal)?.message ?? ""
            XCTAssertTrue(message.contains("số hoặc ký hiệu") && message.contains("number or notation"), message)
        }
    }

    func testChangeSignalWakesAWaiterAndTimesOut() async throws {
        let signal = ChangeSignal()
        let seen = signal.generation
        let start = ContinuousClock.now
        await signal.wait(after: seen, until: .now + .milliseconds(50))
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(50), "no change: waits until the deadline")
        let waiter = Task { await signal.wait(after: seen, until: nil) }
        // No pause before notifying: whether the waiter is already suspended (woken) or not yet
        // (it finds the generation past `seen`), it must return — both are the contract.
        signal.notify()
        await waiter.value  // returns: a test hang here is the failure
        await signal.wait(after: seen, until: nil)  // a change already happened since `seen`: returns at once
    }
}

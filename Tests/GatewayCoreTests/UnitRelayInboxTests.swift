import Crypto
import DocumentModel
import DurableFiles
import EdXML
import Foundation
import Logging
import XCTest
@testable import GatewayCore

/// Issue 16 ("A hostile world"), the box's inbox over the in-memory hub and a test clock: each
/// attack of the first bullet reproduced — an item larger than the box accepts, bytes
/// that no longer match their listed hash, a document dated `2026/13/45`, a forged status — and
/// shown to fail harmlessly while the next document is taken in the same turn.
final class UnitRelayInboxTests: XCTestCase {
    /// This box, the commune that writes to it (`StoreFixture.recipients`: our documents go to
    /// it), and an enrolled box our documents never went to.
    static let box = "000.00.20.H14", neighbour = "000.00.20.H13", stranger = "000.00.20.H15"
    let hub = InMemoryHub(), clock = TestClock()
    var fixture: StoreFixture!, context: RelayContext!

    override func setUpWithError() throws { try makeContext() }

    func makeContext(maximumIncomingSize: Int64 = 100_000, diskReserve: Int64 = 0) throws {
        if fixture == nil { fixture = try StoreFixture() }
        context = try hub.context(box: Self.box, fixture: fixture, clock: clock, maximumIncomingSize: maximumIncomingSize, diskReserve: diskReserve)
    }

    override func tearDown() { fixture.close() }

    /// A document package from `from` to this box, as the EdXML module writes it; `date` replaces
    /// its promulgation date in the XML afterwards (the writer itself refuses a day that does not exist).
    func document(number: String, from: String = neighbour, date: String? = nil) async throws -> (bytes: [UInt8], key: String) {
        let code = DocumentCode(number: number, notation: "UBND-VP")
        let key = MessageHeader.composedDocumentId(from: from, date: "2026/11/21", code: code)
        let package = DocumentPackage(header: MessageHeader(
            from: Organization(organId: from, organName: "UBND xã Hòa Tiến"), to: [Organization(organId: Self.box)], code: code,
            promulgationInfo: PromulgationInfo(date: "2026/11/21"), subject: "Về việc thử nghiệm số \(number)", documentId: key))
        let path = fixture.directory + "/doc-\(number).edxml"
        try await PackageWriter.write(package, attachmentFiles: [], to: path)
        var text = try String(contentsOfFile: path, encoding: .utf8)
        if let date { text = text.replacingOccurrences(of: "2026/11/21", with: date) }
        return (Array(text.utf8), date.map { key.replacingOccurrences(of: "2026/11/21", with: $0) } ?? key)
    }

    static func hex(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    func inbound(_ id: Int64) throws -> InboundRecord? { try fixture.store.inbound(hubID: id) }

    func testAnItemLargerThanTheBoxAcceptsIsRefusedUndownloadedAndTheNextArrives() async throws {
        try makeContext(maximumIncomingSize: 4_000)
        // Listed as 5 MB (hubd took up to 2 GiB, the box 1 GiB): the box used to download it whole,
        // refuse it, and abort the turn, again and again.
        let big = hub.queue(Array(repeating: 0x20, count: 5_000), key: "000.00.20.H13,2026/11/21,1/UBND-VP", from: Self.neighbour, listedSize: 5_000_000)
        let (next, _) = try await document(number: "2")
        let small = hub.queue(next, key: "000.00.20.H13,2026/11/21,2/UBND-VP", from: Self.neighbour)
        try await InboxService(context: context).pollOnce()

        XCTAssertEqual(hub.snapshot.refused.map(\.id), [big])
        XCTAssertEqual(hub.snapshot.refused.first?.refusal.code, "too_large")
        XCTAssertTrue(hub.snapshot.refused.first?.refusal.message_en.contains("5000000 bytes") ?? false)
        XCTAssertEqual(hub.snapshot.downloadedBytes, Int64(next.count), "the large item was never downloaded")
        XCTAssertEqual(hub.snapshot.acknowledged, [small])
        XCTAssertNotNil(try inbound(small)?.statusSentAt, "its 01 went up in the same turn")
        XCTAssertNil(try inbound(big))
    }

    func testBytesThatDoNotMatchTheirHashAreSetAsideRetriedOnTheirOwnAndTheNextArrives() async throws {
        let (first, firstKey) = try await document(number: "1")
        // The hub's copy altered on its disk after it was listed: same size, other bytes.
        var altered = first
        altered[altered.count / 2] ^= 0x01
        let tampered = hub.queue(altered, key: firstKey, from: Self.neighbour, listedSHA256: Self.hex(first))
        let (second, secondKey) = try await document(number: "2")
        let next = hub.queue(second, key: secondKey, from: Self.neighbour)
        let inbox = InboxService(context: context)
        try await inbox.pollOnce()

        XCTAssertEqual(hub.snapshot.acknowledged, [next])
        XCTAssertTrue(hub.snapshot.refused.isEmpty, "it may be taken later: set aside, not refused")
        let aside = try XCTUnwrap(RelayService(context: context).status().inboxSetAside)
        XCTAssertEqual(aside.map(\.what), ["item \(tampered)"])
        XCTAssertTrue(aside.first?.reason.contains("SHA-256") ?? false, aside.first?.reason ?? "")
        XCTAssertEqual(aside.first?.retryAt, clock.now.addingTimeInterval(1), "half the first backoff ceiling (draw 0.5)")

        // The next turns: the long poll asks only for newer items, and the set-aside one waits its time.
        let downloads = hub.snapshot.calls.filter { $0 == "download" }.count
        try await inbox.pollOnce()
        XCTAssertEqual(hub.snapshot.calls.filter { $0 == "download" }.count, downloads)
        // Still wrong when its time comes: set aside again, for longer.
        clock.advance(seconds: 1)
        try await inbox.pollOnce()
        XCTAssertEqual(RelayService(context: context).status().inboxSetAside?.first?.failures, 2)
        XCTAssertEqual(RelayService(context: context).status().inboxSetAside?.first?.retryAt, clock.now.addingTimeInterval(2))
        // The hub's copy repaired: taken at its next try.
        hub.update { state in
            state.inbox = state.inbox.map { $0.item.id == tampered ? ($0.item, first) : $0 }
        }
        clock.advance(seconds: 2)
        try await inbox.pollOnce()
        XCTAssertEqual(hub.snapshot.acknowledged, [next, tampered])
        XCTAssertEqual(RelayService(context: context).status().inboxSetAside, [])
    }

    func testASetAsideItemGoneFromTheHubIsDropped() async throws {
        let (bytes, key) = try await document(number: "1")
        hub.queue(bytes, key: key, from: Self.neighbour, listedSHA256: String(repeating: "0", count: 64))
        let inbox = InboxService(context: context)
        try await inbox.pollOnce()
        XCTAssertEqual(RelayService(context: context).status().inboxSetAside?.count, 1)
        hub.update { $0.inbox = [] }  // acknowledged by a restored copy of this box, say
        clock.advance(seconds: 1)
        try await inbox.pollOnce()
        XCTAssertEqual(RelayService(context: context).status().inboxSetAside, [], "a 404 is not retried")
    }

    func testTheDiskReserveSetsAnItemAsideUndownloaded() async throws {
        try makeContext(diskReserve: Int64.max / 2)
        let (bytes, key) = try await document(number: "1")
        let id = hub.queue(bytes, key: key, from: Self.neighbour)
        try await InboxService(context: context).pollOnce()
        XCTAssertEqual(hub.snapshot.downloadedBytes, 0)
        XCTAssertTrue(hub.snapshot.acknowledged.isEmpty)
        XCTAssertTrue(try XCTUnwrap(RelayService(context: context).status().inboxSetAside?.first).reason.contains("reserve"))
        XCTAssertEqual(RelayService(context: context).status().inboxSetAside?.map(\.what), ["item \(id)"])
    }

    /// The 1 KB document dated `2026/13/45`: refused back with the reason (no 01 could be
    /// built for it), and the next document taken in the same turn.
    func testADocumentDatedOnADayThatDoesNotExistIsRefusedAndTheNextArrives() async throws {
        let (bad, badKey) = try await document(number: "1", date: "2026/13/45")
        XCTAssertLessThan(bad.count, 2048)
        let refused = hub.queue(bad, key: badKey, from: Self.neighbour)
        let (good, goodKey) = try await document(number: "2")
        let next = hub.queue(good, key: goodKey, from: Self.neighbour)
        try await InboxService(context: context).pollOnce()
        XCTAssertEqual(hub.snapshot.refused.map(\.id), [refused])
        XCTAssertEqual(hub.snapshot.refused.first?.refusal.code, "invalid_fields")
        XCTAssertTrue(hub.snapshot.refused.first?.refusal.message.contains("2026/13/45") ?? false)
        XCTAssertEqual(hub.snapshot.acknowledged, [next])
        XCTAssertNotNil(try inbound(next)?.statusSentAt)
        XCTAssertNil(try inbound(refused))
    }

    /// One stored before this change (an older box took it): its 01 cannot be built; it waits aside
    /// on its backoff and the poll goes on.
    func testAStoredDocumentWhose01CannotBeBuiltDoesNotHoldThePoll() async throws {
        let (bad, badKey) = try await document(number: "1", date: "2026/13/45")
        try FileManager.default.createDirectory(atPath: fixture.layout.inboxDirectory, withIntermediateDirectories: true)
        try Data(bad).write(to: URL(fileURLWithPath: fixture.layout.inboxPath(hubID: 1)))
        try fixture.store.saveInbound(InboundRecord(hubID: 1, kind: "document", packageKey: badKey, sender: Self.neighbour, sha256: "",
                                                    size: Int64(bad.count), storedAt: clock.now, ackedAt: clock.now, statusSentAt: nil,
                                                    statusReceipt: nil, folder: nil))
        let (good, goodKey) = try await document(number: "2")
        let next = hub.queue(good, key: goodKey, from: Self.neighbour)
        let inbox = InboxService(context: context)
        try await inbox.pollOnce()
        XCTAssertEqual(hub.snapshot.acknowledged, [next])
        XCTAssertEqual(RelayService(context: context).status().inboxSetAside?.map(\.what), ["status 01 for item 1"])
        let submissions = hub.snapshot.calls.filter { $0 == "submit" }.count
        try await inbox.pollOnce()
        XCTAssertEqual(hub.snapshot.calls.filter { $0 == "submit" }.count, submissions, "not tried again before its time")
        XCTAssertEqual(hub.snapshot.calls.filter { $0 == "poll" }.count, 2, "the poll went on both times")
    }

    /// The forgery past the hub: another enrolled box's "02 refused" about our document is
    /// kept as a package and attached to nothing; the recipient's own status is attached.
    func testAStatusFromAnAgencyTheDocumentWasNotSentToIsIgnored() async throws {
        let receipt = try await fixture.submit(randomBytes(10), signed: true)  // to 000.00.20.H13 (StoreFixture.recipients)
        let id = receipt.document.id
        let key = "\(Self.box),2026/11/21,7/UBND-VP"
        try fixture.store.queueForRelay(OutboundRecord(
            documentId: id, packageKey: key, packageSHA256: "", packageSize: 1, lane: .thuong, queuedAt: clock.now, uploadPath: nil,
            attempts: 0, nextAttemptAt: nil, lastError: nil, receipt: nil, deliveredAt: nil))
        try fixture.store.replaceDirectory([.init(code: AgencyCode(Self.neighbour)!, name: "UBND xã Hòa Tiến")], fetchedAt: clock.now)
        func status(from: String) async throws -> [UInt8] {
            let status = StatusPackage(from: Organization(organId: from, organName: "UBND tỉnh Quảng Trị"), responseFor: ResponseFor(organId: Self.box, documentId: key),
                                       statusCode: .refused, description: "Từ chối", timestamp: EdXMLTimestamp(clock.now).description)
            let path = fixture.directory + "/status-\(from).edxml"
            try await PackageWriter.write(status, to: path)
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        let forged = hub.queue(try await status(from: Self.stranger), kind: "status", key: "status:\(Self.stranger)", from: Self.stranger)
        let genuine = hub.queue(try await status(from: Self.neighbour), kind: "status", key: "status:\(Self.neighbour)", from: Self.neighbour)
        try await InboxService(context: context).pollOnce()
        XCTAssertEqual(hub.snapshot.acknowledged, [forged, genuine], "both stored and acknowledged: a forgery is kept as evidence")
        XCTAssertEqual(try fixture.store.recipientStatuses(id).map(\.fromCode), [Self.neighbour])
        XCTAssertEqual(try fixture.store.recipientStatuses(id).map(\.fromName), ["UBND xã Hòa Tiến"], "the directory's name, not the package's claim")
    }
}

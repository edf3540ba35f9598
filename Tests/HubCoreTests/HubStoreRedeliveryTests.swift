import Foundation
import Logging
import XCTest
@testable import HubCore

/// Redelivery in the store (docs/protocol.md, "Delivered again"): what a commune acknowledged
/// since a time is listed again under its old id until acknowledged again, then with the new
/// acknowledgement's time; another commune's items, refused items and older ones stay as they are.
final class HubStoreRedeliveryTests: XCTestCase {
    var directory: String!
    let commune = "000.00.20.H13", other = "000.00.20.H14", province = "000.00.00.H41"

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hubstore-redeliver-\(UUID().uuidString)").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func open() throws -> HubStore {
        try HubStore(dataDirectory: directory + "/data", handoffDirectory: directory + "/handoff",
                     agencies: [.init(code: commune, name: "UBND xã Hòa Tiến", served: true), .init(code: other, name: "UBND xã Hòa Phước", served: true)],
                     logger: Logger(label: "test"))
    }

    /// Document `number` from the province to both communes; returns its inbox ids (commune, other).
    func post(_ store: HubStore, _ number: Int, at date: Date) async throws -> (Int64, Int64) {
        let path = store.newTemporaryPath()
        FileManager.default.createFile(atPath: path, contents: Data("gói \(number)".utf8))
        let summary = PackageSummary(kind: .document, key: "\(province),2026/11/21,\(number)/UBND", from: province, recipients: [commune, other])
        let stored = try await store.commit(temporaryPath: path, summary: summary, sha256: "aa", size: 8, submittedBy: province,
                                            receivedAt: date, receipt: [1], routing: Routing(communes: [commune, other], handOff: false))
        let ids = Dictionary(uniqueKeysWithValues: stored.deliveries.map { ($0.commune, $0.id) })
        return (try XCTUnwrap(ids[commune]), try XCTUnwrap(ids[other]))
    }

    func testItemsAcknowledgedSinceAreListedAgainUntilAcknowledgedAgain() async throws {
        let store = try open()
        let start = Date().addingTimeInterval(-10 * 86400)
        func day(_ n: Double) -> Date { start.addingTimeInterval(n * 86400) }
        let (old, _) = try await post(store, 1, at: day(0))
        let (recent, otherRecent) = try await post(store, 2, at: day(0))
        let (refused, _) = try await post(store, 3, at: day(0))
        let (waiting, _) = try await post(store, 4, at: day(0))
        try await store.acknowledgeInbox(commune: commune, id: old, at: day(1))
        try await store.acknowledgeInbox(commune: commune, id: recent, at: day(3))
        try await store.acknowledgeInbox(commune: other, id: otherRecent, at: day(3))
        _ = try await store.refuseInbox(commune: commune, id: refused, reason: "x / x", at: day(3))
        let listed = { try await store.inbox(commune: self.commune).map(\.id) }
        let listedForOther = { try await store.inbox(commune: self.other).map(\.id) }
        var inbox = try await listed()
        XCTAssertEqual(inbox, [waiting])
        let otherBefore = try await listedForOther()

        // Since day 2: only `recent` (acknowledged on day 3) comes back, under its old id.
        var requeued = try await store.redeliver(commune: commune, since: day(2), at: day(5))
        XCTAssertEqual(requeued, 1)
        inbox = try await listed()
        XCTAssertEqual(inbox, [recent, waiting])
        var otherAfter = try await listedForOther()
        XCTAssertEqual(otherAfter, otherBefore, "another commune's inbox is untouched")
        // Asking twice changes nothing; `after` hides it like any item (the box lists from 0).
        requeued = try await store.redeliver(commune: commune, since: day(2), at: day(6))
        XCTAssertEqual(requeued, 1)
        let afterWaiting = try await store.inbox(commune: commune, after: waiting)
        XCTAssertEqual(afterWaiting.map(\.id), [])
        let delivery = try await store.delivery(id: recent)
        XCTAssertEqual(delivery.state, "delivered", "still delivered for its sender")

        // Acknowledged again: gone from the list, its time the new acknowledgement's.
        try await store.acknowledgeInbox(commune: commune, id: recent, at: day(7))
        inbox = try await listed()
        XCTAssertEqual(inbox, [waiting])
        requeued = try await store.redeliver(commune: commune, since: day(6), at: day(8))
        XCTAssertEqual(requeued, 1, "a backup taken between the two acknowledgements is covered")
        // Refusing a redelivered item only takes it off the list: no 02 goes back.
        let passedBack = try await store.refuseInbox(commune: commune, id: recent, reason: "x / x", at: day(8))
        XCTAssertNil(passedBack)
        inbox = try await listed()
        XCTAssertEqual(inbox, [waiting])
        let stillDelivered = try await store.delivery(id: recent)
        XCTAssertEqual(stillDelivered.state, "delivered")

        // From the start: `old` too, never the refused one nor another commune's.
        requeued = try await store.redeliver(commune: commune, since: day(0), at: day(9))
        XCTAssertEqual(requeued, 2)
        inbox = try await listed()
        XCTAssertEqual(inbox, [old, recent, waiting])
        otherAfter = try await listedForOther()
        XCTAssertEqual(otherAfter, otherBefore)
        XCTAssertFalse(inbox.contains(refused))
    }

    func testKeepDeliveredDaysIsReadAndBounded() throws {
        let base = "[hub]\ncode = \"000.00.00.H41\"\nname = \"Tỉnh\"\n"
        XCTAssertEqual(try HubConfiguration.parse(base).keepDeliveredDays, 30)
        XCTAssertEqual(try HubConfiguration.parse(base + "[limits]\nkeep_delivered_days = 90\n").keepDeliveredDays, 90)
        XCTAssertThrowsError(try HubConfiguration.parse(base + "[limits]\nkeep_delivered_days = 0\n"))
    }
}

import DocumentModel
import Foundation
import XCTest
@testable import GatewayCore

/// The inbox loop's side of redelivery (docs/relay.md, "Delivered again after a restore") over the
/// in-memory hub: the marker `gatewayd restore` leaves, or `gatewayd inbox redeliver`'s request,
/// is sent before the poll, removed only once the hub agreed, and the inbox is listed from the
/// start; a link down keeps it, a hub without the route sets it aside without holding the poll.
final class UnitRedeliveryTests: XCTestCase {
    let hub = InMemoryHub(), clock = TestClock()
    var fixture: StoreFixture!, context: RelayContext!
    var data: String { fixture.store.layout.dataDirectory }
    var marker: String { data + "/restored-from.json" }

    override func setUpWithError() throws {
        fixture = try StoreFixture()
        context = try hub.context(box: "000.00.20.H14", fixture: fixture, clock: clock)
    }

    override func tearDown() { fixture.close() }

    /// The marker as `gatewayd restore` writes it (`.iso8601` dates, more fields than are read).
    func writeMarker(startedAt: String) throws {
        try Data(#"{"backup_file":"/media/gateway-backup/a.backup","backup_started_at":"\#(startedAt)","box_agency":"000.00.20.H14","keys_restored":false,"restored_at":"2026-12-05T10:00:00Z"}"#.utf8)
            .write(to: URL(fileURLWithPath: marker))
    }

    func testTheRestoreMarkerIsSentBeforeThePollAndRemovedOnlyOnceTheHubAgreed() async throws {
        try writeMarker(startedAt: "2026-12-01T08:00:00Z")
        let service = InboxService(context: context)
        // Items seen before (the cursor moved past them).
        context.inboxBacklog.passed(40)

        hub.update { $0.linkDown = true }
        do { try await service.pollOnce(); XCTFail("the link is down") } catch {}
        XCTAssertTrue(FileManager.default.fileExists(atPath: marker), "kept while the hub has not agreed")
        XCTAssertEqual(hub.snapshot.redeliveries, [])

        hub.update { $0.linkDown = false; $0.calls = [] }
        try await service.pollOnce()
        let asked = try XCTUnwrap(hub.snapshot.redeliveries.first)
        XCTAssertEqual(asked, try Date.ISO8601FormatStyle().parse("2026-12-01T07:00:00Z"), "the backup's start minus an hour")
        XCTAssertEqual(hub.snapshot.redeliveries.count, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
        XCTAssertEqual(Array(hub.snapshot.calls.drop { $0 != "redeliver" }.prefix(2)), ["redeliver", "poll"], "asked before the poll")
        XCTAssertEqual(context.inboxBacklog.cursor, 0, "the inbox is listed from the start: redelivered items keep their ids")

        // Nothing more to ask at the next turn.
        try await service.pollOnce()
        XCTAssertEqual(hub.snapshot.redeliveries.count, 1)
    }

    func testAHubWithoutTheRouteSetsTheRequestAsideAndThePollGoesOn() async throws {
        try RedeliveryRequestFile(since: Date(timeIntervalSince1970: 1_794_000_000)).write(inDataDirectory: data)
        let request = RedeliveryRequestFile.path(in: data)
        hub.update { $0.redeliveryRefusal = .fromHub(status: 404, body: [], retryAfter: nil) }
        let service = InboxService(context: context)
        try await service.pollOnce()
        XCTAssertTrue(hub.snapshot.calls.contains("poll"), "the poll is not held")
        XCTAssertTrue(FileManager.default.fileExists(atPath: request))
        XCTAssertEqual(context.inboxBacklog.entries.map(\.key), [.redelivery], "shown as set aside")

        // Within its backoff it is not asked again; after it, the hub (updated) agrees.
        hub.update { $0.redeliveryRefusal = nil; $0.calls = [] }
        try await service.pollOnce()
        XCTAssertFalse(hub.snapshot.calls.contains("redeliver"))
        clock.advance(seconds: 120)
        try await service.pollOnce()
        XCTAssertEqual(hub.snapshot.redeliveries, [Date(timeIntervalSince1970: 1_794_000_000)])
        XCTAssertFalse(FileManager.default.fileExists(atPath: request))
        XCTAssertEqual(context.inboxBacklog.entries.count, 0)
    }

    func testAnUnreadableMarkerIsLeftForTheOperatorAndNothingIsAsked() async throws {
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: marker))
        try await InboxService(context: context).pollOnce()
        XCTAssertEqual(hub.snapshot.redeliveries, [])
        XCTAssertTrue(FileManager.default.fileExists(atPath: marker))
    }
}

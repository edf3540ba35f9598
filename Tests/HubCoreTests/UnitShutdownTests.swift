import DocumentModel
import NIOCore
import NIOEmbedded
@testable import HubCore
import XCTest

/// The long polls' wake-up: one signal per queue, all closed at shutdown.
final class UnitQueueSignalsTests: XCTestCase {
    func testANotificationMovesOnlyItsQueue() {
        let signals = QueueSignals()
        let inbox = signals.signal("000.00.20.H13"), office = signals.signal("office")
        XCTAssertTrue(signals.signal("000.00.20.H13") === inbox, "one signal per queue")
        let (inboxSeen, officeSeen) = (inbox.generation, office.generation)
        signals.notify("000.00.20.H13")
        XCTAssertNotEqual(inbox.generation, inboxSeen)
        XCTAssertEqual(office.generation, officeSeen)
    }

    func testClosingWakesAWaiterWithoutADeadlineAndLaterWaitsReturnAtOnce() async {
        let signals = QueueSignals()
        let inbox = signals.signal("000.00.20.H13")
        let seen = inbox.generation
        let waiter = Task { await inbox.wait(after: seen, until: nil) }
        signals.closeAll()
        await waiter.value  // returns whether it was waiting already or not: a hang here is the failure
        XCTAssertTrue(inbox.isClosed)
        // A queue first asked for after shutdown began is closed too.
        let later = signals.signal("office")
        XCTAssertTrue(later.isClosed)
        await later.wait(after: later.generation, until: nil)
        XCTAssertEqual(later.generation, 0, "closing is not a change: nothing was queued")
    }
}

/// Shutdown's cut of the bodies on their way (uploads arriving, packages going down).
final class UnitBodiesInFlightTests: XCTestCase {
    func testShutdownClosesTheConnectionsOfTransfersInFlightAndAtOnceThoseThatStartLater() async throws {
        let bodies = BodiesInFlight()
        let (during, finished, later) = (EmbeddedChannel(), EmbeddedChannel(), EmbeddedChannel())
        for channel in [during, finished, later] { try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).get() }
        try await bodies.transferring(on: finished) {}
        try await bodies.transferring(on: during) {
            bodies.cutAll()
            XCTAssertFalse(during.isActive, "a transfer in flight loses its connection")
        }
        XCTAssertTrue(finished.isActive, "a finished transfer's connection is left alone")
        try await bodies.transferring(on: later) {
            XCTAssertFalse(later.isActive, "a transfer that starts after shutdown began is cut at once")
        }
    }
}

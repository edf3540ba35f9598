import XCTest
@testable import TokenDriver
@testable import TokenHotPlug

/// The hot-plug monitor's pure part: pcscd's reader lists and states in, events out.
final class ReaderTrackerTests: XCTestCase {
    typealias State = PCSCContext.ReaderState
    let reader = "Feitian ePass2003 00 00"
    let atr: [UInt8] = [0x3B, 0x9F, 0x95]

    func state(_ flags: UInt32, count: UInt32, atr: [UInt8] = []) -> State {
        var state = State(reader: reader)
        state.eventState = flags | count << 16
        state.atr = atr
        return state
    }

    let changed = State.changed, present = State.present, empty: UInt32 = 0x0010

    func testInsertionAndRemovalAreEachReportedOnce() {
        var tracker = ReaderTracker()
        XCTAssertEqual(tracker.readersListed([reader]), [.serviceConnected, .readerAdded(reader)])
        XCTAssertEqual(tracker.waitStates(plugAndPlayKnownState: 0).map(\.knownState), [0, 0])
        XCTAssertEqual(tracker.observed(state(changed | empty, count: 0)), [])
        XCTAssertEqual(tracker.observed(state(changed | present, count: 1, atr: atr)), [.cardInserted(reader: reader, atr: atr)])
        // The same state again (no CHANGED bit): nothing new.
        XCTAssertEqual(tracker.observed(state(present, count: 1, atr: atr)), [])
        // What we tell pcscd we know next time: its last state, without CHANGED.
        XCTAssertEqual(tracker.waitStates(plugAndPlayKnownState: 0)[1].knownState, present | 1 << 16)
        XCTAssertEqual(tracker.observed(state(changed | empty, count: 2)), [.cardRemoved(reader: reader)])
    }

    func testACardSwappedBetweenTwoWaitsIsRemovedThenInserted() {
        var tracker = ReaderTracker()
        _ = tracker.readersListed([reader])
        _ = tracker.observed(state(changed | present, count: 1, atr: atr))
        let other: [UInt8] = [0x3B, 0x88]
        XCTAssertEqual(tracker.observed(state(changed | present, count: 3, atr: other)),
                       [.cardRemoved(reader: reader), .cardInserted(reader: reader, atr: other)])
    }

    func testAMuteCardIsNotReportedAsInserted() {
        var tracker = ReaderTracker()
        _ = tracker.readersListed([reader])
        XCTAssertEqual(tracker.observed(state(changed | present | State.mute, count: 1)), [])
    }

    func testReadersComingAndGoingWithTheirCards() {
        var tracker = ReaderTracker()
        _ = tracker.readersListed([reader])
        _ = tracker.observed(state(changed | present, count: 1, atr: atr))
        let second = "Virtual PCD 00 01"
        XCTAssertEqual(tracker.readersListed([reader, second]), [.readerAdded(second)])
        // The token (reader and card in one) is unplugged: its card goes first, then the reader.
        XCTAssertEqual(tracker.readersListed([second]), [.cardRemoved(reader: reader), .readerRemoved(reader)])
        XCTAssertEqual(tracker.readerNames, [second])
        // A reader pcscd no longer knows, seen in a wait before the listing says so.
        var gone = State(reader: second)
        gone.eventState = changed | State.unknown
        XCTAssertEqual(tracker.observed(gone), [.readerRemoved(second)])
        XCTAssertEqual(tracker.observed(state(changed | present, count: 5)), [], "unknown readers are ignored")
    }

    /// A box with no token plugged in lists no reader (a USB token is its own reader): the first
    /// answer from pcscd is still told, so the status says pcscd runs.
    func testTheFirstAnswerIsToldWithoutAnyReader() {
        var tracker = ReaderTracker()
        XCTAssertEqual(tracker.readersListed([]), [.serviceConnected])
        XCTAssertEqual(tracker.readersListed([]), [], "told once")
        XCTAssertEqual(tracker.readersListed([reader]), [.readerAdded(reader)])
    }

    func testServiceLossClearsEverythingOnceAndRestorationRelists() {
        var tracker = ReaderTracker()
        _ = tracker.readersListed([reader])
        _ = tracker.observed(state(changed | present, count: 1, atr: atr))
        XCTAssertEqual(tracker.serviceLost(.noService), [.serviceLost(.noService), .cardRemoved(reader: reader), .readerRemoved(reader)])
        XCTAssertEqual(tracker.serviceLost(.noService), [], "one report per outage, however many reconnection attempts fail")
        XCTAssertEqual(tracker.readersListed([reader]), [.serviceRestored, .readerAdded(reader)])
        XCTAssertEqual(tracker.observed(state(changed | present, count: 1, atr: atr)), [.cardInserted(reader: reader, atr: atr)],
                       "after pcscd restarts, the card is a new insertion (pcscd powered it anew)")
    }
}

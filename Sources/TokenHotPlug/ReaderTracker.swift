import TokenDriver

/// What the hot-plug monitor reports, in the order it happened.
package enum ReaderEvent: Sendable, Equatable {
    case readerAdded(String)
    case readerRemoved(String)
    case cardInserted(reader: String, atr: [UInt8])
    case cardRemoved(reader: String)
    /// pcscd went away (stopped, crashed, restarted): every reader and card counts as gone, and
    /// the monitor reconnects by itself with backoff.
    case serviceLost(PCSCError)
    case serviceRestored
    /// The first connection to pcscd answered: told even when no reader is plugged in (a USB
    /// token is its own reader, so a box without one lists none), so "pcscd unavailable" means
    /// pcscd does not answer, never only that no token is in.
    case serviceConnected
}

/// The pure part of the hot-plug monitor: from the reader lists and reader states pcscd reports,
/// the events to tell, each card once per insertion. No I/O, so every transition is unit-tested.
package struct ReaderTracker: Sendable {
    struct Reader: Sendable {
        var cardPresent = false
        /// pcsc-lite counts card insertions and removals in the upper 16 bits of a reader's event
        /// state: a card swapped between two of our waits shows as a changed count.
        var eventCount: UInt32 = 0
        /// What we tell pcscd we know (its last event state, without the CHANGED bit).
        var knownState: UInt32 = 0
    }

    private(set) var readers: [String: Reader] = [:]
    private var serviceDown = false
    private var connected = false

    package init() {}

    var readerNames: [String] { readers.keys.sorted() }

    /// The states to wait on: the PnP pseudo-reader first, then every known reader.
    func waitStates(plugAndPlayKnownState: UInt32) -> [PCSCContext.ReaderState] {
        [PCSCContext.ReaderState(reader: PCSCContext.plugAndPlayReader, knownState: plugAndPlayKnownState)]
            + readerNames.map { PCSCContext.ReaderState(reader: $0, knownState: readers[$0]!.knownState) }
    }

    /// After (re)connecting to pcscd, or when the PnP pseudo-reader says the list changed.
    mutating func readersListed(_ names: [String]) -> [ReaderEvent] {
        var events: [ReaderEvent] = []
        if serviceDown {
            serviceDown = false
            events.append(.serviceRestored)
        } else if !connected {
            events.append(.serviceConnected)
        }
        connected = true
        let listed = Set(names)
        for name in readerNames where !listed.contains(name) {
            events += removeReader(name)
        }
        for name in names where readers[name] == nil {
            readers[name] = Reader()  // state 0 (UNAWARE): the next wait returns its state at once
            events.append(.readerAdded(name))
        }
        return events
    }

    /// One reader's state after a wait.
    mutating func observed(_ state: PCSCContext.ReaderState) -> [ReaderEvent] {
        guard var reader = readers[state.reader] else { return [] }
        if state.eventState & PCSCContext.ReaderState.unknown != 0 {
            return removeReader(state.reader)  // unplugged between the listing and the wait
        }
        guard state.eventState & PCSCContext.ReaderState.changed != 0 else { return [] }
        var events: [ReaderEvent] = []
        // A card that does not answer reset is still "present" to pcscd, but useless: report it
        // as not there (it reappears when pulled and plugged in properly).
        let present = state.eventState & PCSCContext.ReaderState.present != 0
            && state.eventState & PCSCContext.ReaderState.mute == 0
        let count = state.eventState >> 16
        if reader.cardPresent && present && count != reader.eventCount && reader.knownState != 0 {
            // Pulled and plugged back in while we were not looking: both happened.
            events.append(.cardRemoved(reader: state.reader))
            events.append(.cardInserted(reader: state.reader, atr: state.atr))
        } else if present && !reader.cardPresent {
            events.append(.cardInserted(reader: state.reader, atr: state.atr))
        } else if !present && reader.cardPresent {
            events.append(.cardRemoved(reader: state.reader))
        }
        reader.cardPresent = present
        reader.eventCount = count
        reader.knownState = state.eventState & ~PCSCContext.ReaderState.changed
        readers[state.reader] = reader
        return events
    }

    /// pcscd is gone: everything it showed is gone with it. Reported once per outage.
    package mutating func serviceLost(_ error: PCSCError) -> [ReaderEvent] {
        guard !serviceDown else { return [] }
        serviceDown = true
        var events: [ReaderEvent] = [.serviceLost(error)]
        for name in readerNames { events += removeReader(name) }
        return events
    }

    private mutating func removeReader(_ name: String) -> [ReaderEvent] {
        guard let reader = readers.removeValue(forKey: name) else { return [] }
        return (reader.cardPresent ? [.cardRemoved(reader: name)] : []) + [.readerRemoved(name)]
    }
}

import DocumentModel
import Synchronization

/// Wakes long polls: one `ChangeSignal` per queue (a commune's inbox, the hand-off), notified
/// when something is queued there; a poll that found nothing waits for it or for its time limit.
/// At shutdown every signal is closed, so polls answer at once instead of holding hubd open.
final class QueueSignals: Sendable {
    private struct State {
        var signals: [String: ChangeSignal] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    /// The signal of `queue`; queues are served communes and the hand-off, a bounded set.
    func signal(_ queue: String) -> ChangeSignal {
        state.withLock { state in
            if let signal = state.signals[queue] { return signal }
            let signal = ChangeSignal()
            // A poll that starts after shutdown began must not wait either.
            if state.closed { signal.close() }
            state.signals[queue] = signal
            return signal
        }
    }

    func notify(_ queue: String) { signal(queue).notify() }

    func closeAll() {
        let signals = state.withLock { state in
            state.closed = true
            return Array(state.signals.values)
        }
        for signal in signals { signal.close() }
    }
}

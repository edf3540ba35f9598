import Synchronization

/// "Something changed": wakes a waiter when its owner's state moved, so loops sleep without
/// timers while nothing happens (near-zero idle CPU) and react at once. gatewayd's store notifies
/// it after every commit and move (the relay's wake-up); hubd keeps one per queue to wake long
/// polls. The state stays the truth: a waiter re-reads it after waking.
package final class ChangeSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())

    package init() {}

    /// The current generation: pass it to `wait` to hear of any change after this point.
    package var generation: UInt64 { state.withLock { $0.generation } }

    /// Whether `close()` was called: waits return at once.
    package var isClosed: Bool { state.withLock { $0.closed } }

    package func notify() {
        let waiters = state.withLock { state in
            state.generation &+= 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Wakes every waiter now and every later one at once: the owner is stopping (hubd answers
    /// its long polls this way at shutdown instead of holding the process until they time out).
    package func close() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when a change after `seen` happened, the deadline passed, the signal was closed,
    /// or the task is cancelled.
    package func wait(after seen: UInt64, until deadline: ContinuousClock.Instant?) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForChange(after: seen) }
            if let deadline {
                group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForChange(after seen: UInt64) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter &+= 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation != seen || state.closed || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}

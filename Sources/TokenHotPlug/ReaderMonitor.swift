import Foundation
import TokenDriver

/// Readers and cards as they come and go: an `AsyncSequence` of `ReaderEvent`s, driven by
/// `SCardGetStatusChange` with the PnP pseudo-reader on a thread of its own. Waiting for an event
/// costs no CPU (pcscd answers over its socket when something happens); when pcscd stops, the
/// monitor reports it and reconnects with capped exponential backoff, then reports what it finds.
///
///     for await event in ReaderMonitor.events() { … }
///
/// Ending the iteration (or cancelling its task) stops the thread.
package enum ReaderMonitor {
    package struct Backoff: Sendable {
        var initial: Double
        var maximum: Double
        package init(initial: Double = 0.25, maximum: Double = 5) {
            self.initial = initial
            self.maximum = maximum
        }
    }

    package static func events(backoff: Backoff = Backoff()) -> AsyncStream<ReaderEvent> {
        AsyncStream(bufferingPolicy: .unbounded) { continuation in
            let worker = Worker(backoff: backoff) { continuation.yield($0) }
            let thread = Thread {
                worker.run()
                continuation.finish()
            }
            thread.name = "gatewayd.reader-monitor"
            thread.stackSize = 256 * 1024
            continuation.onTermination = { _ in worker.stop() }
            thread.start()
        }
    }

    /// The loop. `stop()` may be called from any thread: it wakes the blocking wait through
    /// `SCardCancel` (or the backoff sleep) and the loop ends.
    final class Worker: @unchecked Sendable {
        let backoff: Backoff
        let emit: (ReaderEvent) -> Void
        private let lock = NSCondition()
        private var stopped = false
        private var current: PCSCContext?  // guarded by lock, so stop() can cancel its wait

        init(backoff: Backoff, emit: @escaping (ReaderEvent) -> Void) {
            self.backoff = backoff
            self.emit = emit
        }

        func stop() {
            lock.lock()
            stopped = true
            current?.cancel()
            lock.broadcast()
            lock.unlock()
        }

        private var isStopped: Bool {
            lock.lock()
            defer { lock.unlock() }
            return stopped
        }

        func run() {
            var tracker = ReaderTracker()
            var delay = backoff.initial
            while !isStopped {
                do {
                    try watch(&tracker) { delay = backoff.initial }
                } catch {
                    tracker.serviceLost(error).forEach(emit)
                }
                lock.lock()
                current = nil
                if !stopped { _ = lock.wait(until: Date().addingTimeInterval(delay)) }
                lock.unlock()
                delay = min(delay * 2, backoff.maximum)
            }
        }

        /// One connection to pcscd, until it fails (thrown) or the monitor is stopped (returns).
        private func watch(_ tracker: inout ReaderTracker, connected: () -> Void) throws(PCSCError) {
            let context = try PCSCContext()
            lock.lock()
            if stopped { lock.unlock(); return }
            current = context
            lock.unlock()
            connected()
            tracker.readersListed(try context.readers()).forEach(emit)
            var plugAndPlayState: UInt32 = 0
            while true {
                var states = tracker.waitStates(plugAndPlayKnownState: plugAndPlayState)
                do {
                    try context.waitForChange(&states)
                } catch .cancelled {
                    if isStopped { return }
                    continue
                } catch .timeout {
                    continue
                }
                var listChanged = false
                for state in states {
                    if state.reader == PCSCContext.plugAndPlayReader {
                        if state.eventState & PCSCContext.ReaderState.changed != 0 { listChanged = true }
                        plugAndPlayState = state.eventState & ~PCSCContext.ReaderState.changed
                    } else {
                        tracker.observed(state).forEach(emit)
                    }
                }
                if listChanged { tracker.readersListed(try context.readers()).forEach(emit) }
            }
        }
    }
}

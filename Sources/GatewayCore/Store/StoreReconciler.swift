import Foundation
import Logging
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The reconcile of every row against its file that start-up no longer does (`recover` reads
/// only the transient documents), run once after the doors are open, on a thread of its own at
/// the lowest CPU priority, in small batches under the writer lock: start-up stays as fast with
/// years of history as with none, and nothing a start-up repaired before goes unrepaired.
final class StoreReconciler: Service, Sendable {
    private let store: DocumentStore
    private let logger: Logger
    private let opened = AsyncStream<Void>.makeStream()

    init(store: DocumentStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Called when the daemon is READY (the local API listening): the pass may start.
    func doorsOpened() {
        opened.continuation.yield()
        opened.continuation.finish()
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { _ = await self.runOnce() }
        // A service that returns ends the group: stay until shutdown.
        try? await gracefulShutdown()
    }

    /// Waits for READY, then reconciles and logs what it repaired. Nil when stopped first.
    func runOnce() async -> StoreCheckReport? {
        var iterator = opened.stream.makeAsyncIterator()
        guard await iterator.next() != nil, !Task.isCancelled else { return nil }
        do {
            let report = try await pass()
            logger.notice("store reconciled", metadata: [
                "documents": "\(report.documentsChecked)", "orphans_moved_aside": "\(report.orphansMovedAside.count)",
                "quarantined": "\(report.quarantined.count)",
            ])
            for entry in report.quarantined {
                logger.error("document quarantined by the store's reconcile", metadata: ["document.id": "\(entry.id)", "reason": "\(entry.reason)"])
            }
            return report
        } catch is CancellationError {
            logger.notice("store reconcile stopped by shutdown; it runs again at the next start")
        } catch {
            logger.error("store reconcile failed", metadata: ["error": "\(error)"])
        }
        return nil
    }

    /// `reconcile` on a thread of its own at nice 19 (blocking file and SQLite work that must
    /// neither hold a cooperative thread nor compete with intake for the CPU); stopped between
    /// batches when the task is cancelled.
    func pass() async throws -> StoreCheckReport {
        let stop = Stop()
        let store = self.store
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<StoreCheckReport, any Error>) in
                let thread = Thread {
                    // Linux: PRIO_PROCESS with 0 is the calling thread alone.
                    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
                    continuation.resume(with: Result {
                        let report = try store.reconcile(shouldContinue: { !stop.requested })
                        if stop.requested { throw CancellationError() }
                        return report
                    })
                }
                thread.name = "gateway.store.reconcile"
                thread.start()
            }
        } onCancel: {
            stop.request()
        }
    }

    private final class Stop: Sendable {
        private let flag = Atomic<Bool>(false)
        var requested: Bool { flag.load(ordering: .relaxed) }
        func request() { flag.store(true, ordering: .relaxed) }
    }
}

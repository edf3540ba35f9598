import DocumentModel
import Foundation
import ServiceLifecycle
import Synchronization

/// The upload workers: one express worker for the urgent lanes and `parallel_uploads` general
/// workers (`LaneScheduler`), each sending one queued document at a time — whole or by tus
/// (`TusDriver`) — and keeping the hub's verified receipt. A failure is decided by the one
/// backoff rule (`RetryRule`): retry at a time, or reject with the hub's reason.
package final class UploadService: Service, Sendable {
    let context: RelayContext
    /// Documents a worker is sending right now, so that two never take the same one.
    private let busy = Mutex(Set<DocumentID>())
    private let scheduler = LaneScheduler()

    package init(context: RelayContext) { self.context = context }

    package func run() async {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.workerLoop(.express) }
                for _ in 0..<self.context.settings.parallelUploads { group.addTask { await self.workerLoop(.general) } }
            }
        }
    }

    func workerLoop(_ worker: UploadWorker) async {
        let store = context.store
        while !Task.isCancelled {
            let seen = store.changes.generation
            let now = context.now()
            var deadline: Date?
            do {
                let held = busy.withLock { $0 }
                let (due, nextRetry) = try store.relayCandidates(from: worker.lowestLane, now: now, limit: held.count + 1)
                switch scheduler.next(for: worker, among: due, busy: held, now: now) {
                case .send(let id):
                    guard busy.withLock({ $0.insert(id).inserted }) else { continue }
                    await send(id, worker: worker)
                    busy.withLock { _ = $0.remove(id) }
                    continue
                case .wait(let until):
                    deadline = [until, nextRetry].compactMap { $0 }.min()
                }
            } catch {
                context.logger.error("relay could not read the queue", metadata: ["error": "\(error)"])
                deadline = now.addingTimeInterval(30)
            }
            await context.waitForStore(after: seen, until: deadline)
        }
    }

    /// One attempt at one queued document: sending → delivered, or back to queued with its next
    /// attempt's time, or rejected.
    package func send(_ id: DocumentID, worker: UploadWorker) async {
        let store = context.store, logger = context.logger
        guard var outbound = try? store.outbound(id) else { return }
        do {
            try store.relayTransition(outbound, to: .sending, cause: "sending to the hub (attempt \(outbound.attempts + 1), \(worker.rawValue) worker)")
        } catch {
            logger.error("could not mark a document sending", metadata: ["document.id": "\(id)", "error": "\(error)"])
            try? await Task.sleep(for: .seconds(5))  // the database is failing: do not spin on it
            return
        }
        do throws(RelayError) {
            let submission = RelayContext.Submission(path: store.layout.packagePath(id), key: outbound.packageKey,
                                                     sha256: outbound.packageSHA256, size: outbound.packageSize)
            let tus = TusDriver(context: context, worker: worker)
            // The tus driver keeps the upload's path in `outbound` (and the store) as it goes.
            let (der, receipt) = try await context.submitAndVerify(submission, worker: worker) { (submission: RelayContext.Submission) throws(RelayError) -> [UInt8] in
                try await tus.upload(&outbound, file: submission.path, auditHead: submission.auditHead)
            }
            outbound.receipt = Data(der)
            outbound.deliveredAt = context.now()
            outbound.lastError = nil
            outbound.nextAttemptAt = nil
            do {
                try store.relayTransition(outbound, to: .delivered,
                                          cause: "delivered: receipt signed by the hub \(receipt.hub.code), received at \(receipt.receivedAt)")
            } catch { throw RelayError.store(error) }
            context.linkSucceeded()
            logger.notice("document delivered", metadata: ["document.id": "\(id)", "key": "\(outbound.packageKey)"])
        } catch {
            context.linkFailed(error)
            failed(&outbound, error)
        }
        store.changes.notify()
    }

    func failed(_ outbound: inout OutboundRecord, _ error: RelayError) {
        let store = context.store, logger = context.logger
        outbound.lastError = error.message
        do {
            switch context.attemptFailed(error, failuresBefore: outbound.attempts) {
            case .reject:
                try store.relayTransition(outbound, to: .rejected, cause: "refused by the hub (\(error.code))", reason: error.message)
                logger.warning("document refused by the hub", metadata: ["document.id": "\(outbound.documentId)", "error": "\(error)"])
            case .retry(let failures, let delay, let next):
                outbound.attempts = failures
                outbound.nextAttemptAt = next
                let seconds = Int(QueueAgeRule.seconds(delay))
                try store.relayTransition(outbound, to: .queued, cause: "attempt \(failures) failed (\(error.code)); next after \(seconds) s")
                logger.warning("sending failed, will retry", metadata: [
                    "document.id": "\(outbound.documentId)", "error": "\(error)", "retry_in_s": "\(seconds)"])
            }
        } catch {
            logger.error("could not record a relay failure", metadata: ["document.id": "\(outbound.documentId)", "error": "\(error)"])
        }
    }
}

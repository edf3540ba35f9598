import DocumentModel
import Foundation
import Logging
import ServiceLifecycle
import Signing
import Synchronization

/// The workers' pick over the store's document ids.
package typealias LaneScheduler = LaneSchedule<DocumentID>

/// What the relay's services share: settings, the store, the hub (`HubTransport`), the box's
/// signer, the receipt check, the clock, the link's state and the one backoff rule. Holds nothing
/// that matters in memory: the store is the truth.
package final class RelayContext: Sendable {
    package let settings: RelayService.Settings
    package let store: DocumentStore
    package let hub: any HubTransport
    /// The box's own key (`[upstream] key` / `certificate`, the relay's TLS client identity): it
    /// XML-signs every envelope no person signs — the 01 status, the clerks' statuses, documents
    /// that arrived already signed — so no envelope leaves unsigned (issue 13; docs/relay.md,
    /// "Which key signs which envelope"). Required: there is no unsigned path.
    package let boxSigner: any Signer
    package let logger: Logger
    /// The time every decision is taken at (tests pass a clock they move by hand).
    package let now: @Sendable () -> Date
    /// A draw in [0, 1) for the backoff's jitter (tests pass a fixed one).
    package let draw: @Sendable () -> Double
    let checkReceipt: ReceiptCheck
    let retryRule: RetryRule
    /// Incoming items and 01 statuses set aside, each on its own backoff (`InboxBacklog`).
    package let inboxBacklog = InboxBacklog()
    private let link = Mutex(RelayLinkState())

    /// Checks a receipt's signature, chain and fields against what was sent.
    package typealias ReceiptCheck = @Sendable ([UInt8], ReceiptVerifier.Expectation, Date) async throws(RelayError) -> RelayReceipt

    package init(settings: RelayService.Settings, store: DocumentStore, hub: any HubTransport, boxSigner: any Signer,
                 checkReceipt: @escaping ReceiptCheck, now: @escaping @Sendable () -> Date = { Date() },
                 draw: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, logger: Logger) {
        self.settings = settings
        self.store = store
        self.hub = hub
        self.boxSigner = boxSigner
        self.checkReceipt = checkReceipt
        self.now = now
        self.draw = draw
        self.logger = logger
        retryRule = RetryRule(schedule: settings.schedule)
    }

    /// The box's signer from its key and certificate files, read once when the relay starts. A
    /// key file, not a token: the box signs unattended, and this key already sits on its disk for
    /// TLS, so signing with it exposes nothing new. Fails (the relay does not start) when the files
    /// cannot be read or do not match: better no relay than unsigned envelopes.
    package static func boxSigner(keyFile: String, certificateFile: String) throws(RelayError) -> any Signer {
        do { return try SoftwareKeySigner(keyFile: keyFile, chainFile: certificateFile) } catch {
            throw RelayError(kind: .untrusted, code: .boxCertificate,
                             vi: "Không dùng được khóa của hộp để ký gói edXML (\(keyFile), \(certificateFile)): \(error)",
                             en: "Cannot sign edXML envelopes with the box's key (\(keyFile), \(certificateFile)): \(error)")
        }
    }

    // MARK: Submit and verify

    /// A package as sent: where it is, and what its receipt must say.
    package struct Submission: Sendable {
        package var path: String
        package var key: String
        package var sha256: String
        package var size: Int64
        /// The audit chain's head when the package went out: set by `submitAndVerify`.
        package var auditHead: AuditAnchor?
    }

    /// The one path from a package on disk to a kept receipt: sent whole (or by `upload`, the tus
    /// driver, when larger than `wholeSubmissionLimit`), then the receipt checked against the
    /// hub CA and what was sent. Returns the receipt's DER (what the store keeps) and its content.
    package func submitAndVerify(
        _ submission: Submission, worker: UploadWorker,
        upload: ((Submission) async throws(RelayError) -> [UInt8])? = nil
    ) async throws(RelayError) -> (der: [UInt8], receipt: RelayReceipt) {
        var submission = submission
        do { submission.auditHead = try store.auditHead() } catch { throw RelayError.store(error) }
        let der: [UInt8]
        if let upload, submission.size > settings.wholeSubmissionLimit {
            der = try await upload(submission)
        } else {
            der = try await hub.submitWhole(path: submission.path, size: submission.size, auditHead: submission.auditHead, worker: worker)
        }
        let expected = ReceiptVerifier.Expectation(key: submission.key, sha256: submission.sha256, size: submission.size,
                                                   from: settings.agencyCode.description)
        let receipt = try await checkReceipt(der, expected, now())
        try checkAnchor(receipt)
        return (der, receipt)
    }

    /// The anchor a receipt signs must be a line of this box's chain (the one sent, or for a
    /// resumed tus upload the one sent at its creation): a receipt anchoring anything else is
    /// no witness of this history, and is not kept as proof of delivery. A receipt without one
    /// (an older hub) is kept as before.
    func checkAnchor(_ receipt: RelayReceipt) throws(RelayError) {
        guard let anchor = receipt.auditHead else { return }
        let stored: String?
        do { stored = try store.auditHash(entry: anchor.entry) } catch { throw RelayError.store(error) }
        guard stored == anchor.sha256 else {
            throw RelayError(kind: .untrusted, code: .receiptInvalid,
                             vi: "Biên nhận của cấp trên neo dòng nhật ký \(anchor.entry) với mã băm không có trong nhật ký của hộp",
                             en: "The hub's receipt anchors audit line \(anchor.entry) with a hash that is not in the box's audit trail")
        }
    }

    // MARK: Decisions

    /// The backoff after a failure, at the current time.
    package func attemptFailed(_ error: RelayError, failuresBefore: Int) -> RetryDecision {
        retryRule.attemptFailed(error.kind, retryAfter: error.retryAfter, failuresBefore: failuresBefore, now: now(), unit: draw())
    }

    /// An exchange succeeded. When the link comes back, documents waiting out a backoff go at
    /// once: the box resumes by itself without waiting up to `retry_cap` per document.
    /// The backoff after a failure retried whatever its kind: how many in a row, and how long.
    package func backoff(after error: RelayError, failuresBefore: Int) -> (failures: Int, delay: Duration) {
        guard case .retry(let failures, let delay, _) = retryRule.backoff(
            retryAfter: error.retryAfter, failuresBefore: failuresBefore, now: now(), unit: draw()) else { return (failuresBefore + 1, .zero) }
        return (failures, delay)
    }

    /// True when the link just came back (it was down or unknown).
    @discardableResult
    package func linkSucceeded() -> Bool {
        guard link.withLock({ $0.succeeded(at: now()) }) else { return false }
        do {
            try store.clearRelayRetryTimes()
            store.changes.notify()
        } catch {
            logger.error("could not clear retry times", metadata: ["error": "\(error)"])
        }
        return true
    }

    package func linkFailed(_ error: RelayError) {
        link.withLock { $0.failed(error.kind, description: error.description, at: now()) }
    }

    package var linkState: RelayLinkState { link.withLock { $0 } }

    /// Runs `turn` until the service stops: after a success it waits what `turn` returned (zero:
    /// goes on at once); after a failure, what `failed` makes of the relay's backoff.
    package func repeatWithBackoff(_ turn: @escaping @Sendable () async throws(RelayError) -> Duration,
                                   failed: @escaping @Sendable (RelayError, _ backoff: Duration) -> Duration) async {
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                let delay: Duration
                do throws(RelayError) {
                    delay = try await turn()
                    failures = 0
                } catch {
                    if Task.isCancelled { return }
                    let (count, backoff) = self.backoff(after: error, failuresBefore: failures)
                    failures = count
                    delay = failed(error, backoff)
                }
                if delay > .zero { try? await Task.sleep(for: delay) }
            }
        }
    }

    /// Until the store changes or `deadline` (by this context's clock) passes.
    package func waitForStore(after seen: UInt64, until deadline: Date?) async {
        await store.changes.wait(after: seen, until: deadline.map(instant))
    }

    /// `date` (by this context's clock) as an instant of the continuous clock sleeps use.
    package func instant(_ date: Date) -> ContinuousClock.Instant {
        ContinuousClock.now + .milliseconds(Int64(max(0, date.timeIntervalSince(now())) * 1000) + 1)
    }
}

extension InboundRecord {
    /// `kind` as the relay protocol names it (nil: a kind this box does not know).
    package var packageKind: RelayPackageKind? { RelayPackageKind(rawValue: kind) }
}

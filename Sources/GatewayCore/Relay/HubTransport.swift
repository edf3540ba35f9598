import DocumentModel
import Foundation

/// The hub as the relay's services see it: one method per exchange of the relay protocol
/// (docs/protocol.md), typed values in and out, a classed `RelayError` on failure. `RelayClient`
/// speaks it over mutual TLS; the tests' in-memory hub answers it without a network, so the
/// services' retry, backoff and resumption are tested without hubd and without sleeping.
package protocol HubTransport: Sendable {
    /// `POST /v1/packages`: the whole package in one request (small packages), with the box's
    /// audit anchor when it has one (docs/protocol.md, "Audit anchors"). Returns the receipt.
    func submitWhole(path: String, size: Int64, auditHead: AuditAnchor?, worker: UploadWorker) async throws(RelayError) -> [UInt8]
    /// `POST /v1/uploads`: a new tus upload, the audit anchor in its metadata. Returns its path.
    func createUpload(length: Int64, key: String, sha256: String, auditHead: AuditAnchor?, worker: UploadWorker) async throws(RelayError) -> String
    /// `HEAD <upload>`: where to continue.
    func probeUpload(_ uploadPath: String, worker: UploadWorker) async throws(RelayError) -> HubProbeResult
    /// `PATCH <upload>` with the package from `offset` to `length`, streamed from `file`.
    func patchUpload(_ uploadPath: String, file: String, offset: Int64, length: Int64, worker: UploadWorker) async throws(RelayError) -> HubPatchResult
    /// `GET <receipt>`.
    func fetchReceipt(_ receiptPath: String, worker: UploadWorker) async throws(RelayError) -> [UInt8]
    /// `GET /v1/directory`: the agencies the hub knows.
    func fetchDirectory() async throws(RelayError) -> [AgencyDirectory.Entry]
    /// `GET /v1/inbox?wait=S&after=N`: answers when something newer than item `after` is
    /// waiting, or empty after `wait`.
    func pollInbox(wait: Duration, after: Int64) async throws(RelayError) -> [RelayWaitingItem]
    /// `GET /v1/inbox/{id}` into `file` (created, written, fsynced; not renamed). Returns the
    /// SHA-256 (hex) and the size.
    func downloadInboxItem(_ id: Int64, to file: String, maximumSize: Int64) async throws(RelayError) -> (sha256: String, size: Int64)
    /// `POST /v1/inbox/{id}/ack`, only after the item is stored durably.
    func acknowledgeInboxItem(_ id: Int64) async throws(RelayError)
    /// `POST /v1/inbox/{id}/refuse`: an item this box can never take, with the reason the hub
    /// passes back to its sender.
    func refuseInboxItem(_ id: Int64, _ refusal: RelayInboxRefusal) async throws(RelayError)
    /// `POST /v1/inbox/redeliver`: what this box acknowledged since `since` waits in its inbox
    /// again, under the same ids (after a restore of an older backup).
    func requestRedelivery(since: Date) async throws(RelayError) -> RelayRedeliveryAnswer
    /// Closes the connections; called once, when the relay stops.
    func shutdown() async
}

/// The answer to a tus `HEAD`.
package enum HubProbeResult: Sendable, Equatable {
    case offset(Int64, length: Int64?)
    case gone
}

/// The answer to a tus `PATCH`.
package enum HubPatchResult: Sendable, Equatable {
    case accepted(offset: Int64, receiptPath: String?)
    case offsetMismatch
    case gone
}

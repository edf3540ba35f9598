import Crypto
import DocumentModel
import Foundation
import Logging
import Synchronization
@testable import GatewayCore

/// The hub as a value in memory (`HubTransport`), for the relay services' unit tests: it keeps
/// what it was sent, answers tus like hubd, and fails on request — the link down, a refusal, a
/// connection that breaks after so many bytes of a PATCH. Its receipts are the receipt JSON
/// unsigned; `InMemoryHub.checkReceipt` compares them with what was sent.
final class InMemoryHub: HubTransport {
    struct Upload {
        var length: Int64
        var key: String
        var bytes: [UInt8] = []
    }

    struct State {
        /// Every exchange fails as a broken connection while true.
        var linkDown = false
        /// The next submissions (whole, or a tus creation) fail with these, in order.
        var refusals: [RelayError] = []
        /// The next PATCHes store only this many bytes, then the connection breaks.
        var breakPatchesAfter: [Int64] = []
        var uploads: [String: Upload] = [:]
        var stored: [[UInt8]] = []
        /// The audit anchor of each submission (whole, or a tus creation), in order.
        var auditHeads: [AuditAnchor?] = []
        /// Signed into whole submissions' receipts instead of the anchor sent (a hub that lies).
        var forgedAnchor: AuditAnchor?
        var calls: [String] = []
        /// Bytes the PATCHes carried, all uploads together (a resumption sends each byte once).
        var patchedBytes: Int64 = 0
        var directory: [AgencyDirectory.Entry] = []
        /// What waits for this box: the item as listed, and the bytes a download gets (which may
        /// differ from what the listing announces, as at a hub whose disk was tampered with).
        var inbox: [(item: RelayWaitingItem, bytes: [UInt8])] = []
        var acknowledged: [Int64] = []
        var refused: [(id: Int64, refusal: RelayInboxRefusal)] = []
        /// Bytes downloads delivered, all items together.
        var downloadedBytes: Int64 = 0
        /// The `since` of each redelivery request (nothing is requeued here), and what every
        /// request fails with while set (a hub without the route).
        var redeliveries: [Date] = []
        var redeliveryRefusal: RelayError?
    }

    /// Puts `bytes` in the box's inbox, listed with their true size and hash unless told
    /// otherwise. Returns the item's id.
    @discardableResult
    func queue(_ bytes: [UInt8], kind: String = "document", key: String, from: String, listedSize: Int64? = nil, listedSHA256: String? = nil) -> Int64 {
        state.withLock { state in
            let id = (state.inbox.map(\.item.id).max() ?? 0) + 1
            let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            let item = RelayWaitingItem(id: id, kind: kind, key: key, from: from, size: listedSize ?? Int64(bytes.count),
                                        sha256: listedSHA256 ?? digest, queuedAt: "2026-11-21T21:40:12+07:00", file: nil)
            state.inbox.append((item, bytes))
            return id
        }
    }

    let state = Mutex(State())

    func update(_ change: (inout State) -> Void) { state.withLock { change(&$0) } }
    var snapshot: State { state.withLock { $0 } }

    static let down = RelayError.connection(POSIXError(.ECONNREFUSED))

    /// Counts the call, then fails it if the link is down.
    private func exchange(_ name: String) throws(RelayError) {
        let down = state.withLock { state in
            state.calls.append(name)
            return state.linkDown
        }
        if down { throw Self.down }
    }

    private func nextRefusal() -> RelayError? {
        state.withLock { $0.refusals.isEmpty ? nil : $0.refusals.removeFirst() }
    }

    static func receipt(for bytes: [UInt8], auditHead: AuditAnchor? = nil) -> [UInt8] {
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let receipt = RelayReceipt(key: "", kind: "document", sha256: digest, size: Int64(bytes.count), from: "",
                                   receivedAt: "2026-11-21T21:40:12+07:00", hub: .init(code: "000.00.00.H41", name: nil), auditHead: auditHead)
        return (try? receipt.encoded()) ?? []
    }

    /// The receipt check the in-memory hub's receipts pass: digest and size as sent.
    static let checkReceipt: RelayContext.ReceiptCheck = { der, expected, _ throws(RelayError) in
        guard let receipt = try? JSONDecoder().decode(RelayReceipt.self, from: Data(der)),
              receipt.sha256 == expected.sha256, receipt.size == expected.size else {
            throw RelayError(kind: .untrusted, code: .receiptInvalid, vi: "biên nhận sai", en: "wrong receipt")
        }
        return receipt
    }

    func read(_ path: String, from offset: Int64, to end: Int64) -> [UInt8] {
        let bytes = (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))) ?? []
        return Array(bytes[Int(offset)..<Int(min(end, Int64(bytes.count)))])
    }

    func submitWhole(path: String, size: Int64, auditHead: AuditAnchor?, worker: UploadWorker) async throws(RelayError) -> [UInt8] {
        try exchange("submit")
        if let refusal = nextRefusal() { throw refusal }
        let bytes = read(path, from: 0, to: size)
        update {
            $0.stored.append(bytes)
            $0.auditHeads.append(auditHead)
        }
        return Self.receipt(for: bytes, auditHead: snapshot.forgedAnchor ?? auditHead)
    }

    func createUpload(length: Int64, key: String, sha256: String, auditHead: AuditAnchor?, worker: UploadWorker) async throws(RelayError) -> String {
        try exchange("create")
        if let refusal = nextRefusal() { throw refusal }
        return state.withLock { state in
            state.auditHeads.append(auditHead)
            let path = "/v1/uploads/\(state.uploads.count + 1)"
            state.uploads[path] = Upload(length: length, key: key)
            return path
        }
    }

    func probeUpload(_ uploadPath: String, worker: UploadWorker) async throws(RelayError) -> HubProbeResult {
        try exchange("head")
        guard let upload = snapshot.uploads[uploadPath] else { return .gone }
        return .offset(Int64(upload.bytes.count), length: upload.length)
    }

    func patchUpload(_ uploadPath: String, file: String, offset: Int64, length: Int64, worker: UploadWorker) async throws(RelayError) -> HubPatchResult {
        try exchange("patch")
        let sent = read(file, from: offset, to: length)
        let outcome: (HubPatchResult?, broke: Bool) = state.withLock { state in
            guard var upload = state.uploads[uploadPath] else { return (.gone, false) }
            guard offset == Int64(upload.bytes.count) else { return (.offsetMismatch, false) }
            let limit = state.breakPatchesAfter.isEmpty ? Int64(sent.count) : min(state.breakPatchesAfter.removeFirst(), Int64(sent.count))
            upload.bytes += sent.prefix(Int(limit))
            state.patchedBytes += limit
            state.uploads[uploadPath] = upload
            if limit < Int64(sent.count) { return (nil, true) }
            state.stored.append(upload.bytes)
            return (.accepted(offset: Int64(upload.bytes.count), receiptPath: uploadPath + "/receipt"), false)
        }
        if outcome.broke { throw RelayError.connection(POSIXError(.ECONNRESET)) }
        return outcome.0!
    }

    func fetchReceipt(_ receiptPath: String, worker: UploadWorker) async throws(RelayError) -> [UInt8] {
        try exchange("receipt")
        let uploadPath = String(receiptPath.dropLast("/receipt".count))
        guard let upload = snapshot.uploads[uploadPath], Int64(upload.bytes.count) == upload.length else {
            throw RelayError.fromHub(status: 404, body: Array(RelayErrorBody(code: .notFound, vi: "không có", en: "no such receipt").encoded()),
                                     retryAfter: nil)
        }
        return Self.receipt(for: upload.bytes)
    }

    func fetchDirectory() async throws(RelayError) -> [AgencyDirectory.Entry] {
        try exchange("directory")
        return snapshot.directory
    }

    /// Answers at once, like hubd when something newer than `after` waits (and, in memory, when
    /// nothing does: the tests drive each turn).
    func pollInbox(wait: Duration, after: Int64) async throws(RelayError) -> [RelayWaitingItem] {
        try exchange("poll")
        return snapshot.inbox.map(\.item).filter { $0.id > after }
    }

    /// Writes the item's bytes as RelayClient does, stopping past `maximumSize`.
    func downloadInboxItem(_ id: Int64, to file: String, maximumSize: Int64) async throws(RelayError) -> (sha256: String, size: Int64) {
        try exchange("download")
        guard let bytes = snapshot.inbox.first(where: { $0.item.id == id })?.bytes else {
            throw RelayError.fromHub(status: 404, body: [], retryAfter: nil)
        }
        let sent = Array(bytes.prefix(Int(min(maximumSize + 1, Int64(bytes.count)))))
        update { $0.downloadedBytes += Int64(sent.count) }
        guard FileManager.default.createFile(atPath: file, contents: Data(sent)) else {
            throw RelayError(kind: .transient, code: .store, vi: "không ghi được", en: "cannot write \(file)")
        }
        guard Int64(sent.count) <= maximumSize else { throw RelayError.protocolViolation("item larger than \(maximumSize) bytes") }
        return (SHA256.hash(data: sent).map { String(format: "%02x", $0) }.joined(), Int64(sent.count))
    }

    func acknowledgeInboxItem(_ id: Int64) async throws(RelayError) {
        try exchange("ack")
        update { state in
            state.acknowledged.append(id)
            state.inbox.removeAll { $0.item.id == id }
        }
    }

    func refuseInboxItem(_ id: Int64, _ refusal: RelayInboxRefusal) async throws(RelayError) {
        try exchange("refuse")
        update { state in
            state.refused.append((id, refusal))
            state.inbox.removeAll { $0.item.id == id }
        }
    }

    func requestRedelivery(since: Date) async throws(RelayError) -> RelayRedeliveryAnswer {
        try exchange("redeliver")
        if let refusal = snapshot.redeliveryRefusal { throw refusal }
        update { $0.redeliveries.append(since) }
        return RelayRedeliveryAnswer(requeued: 0, from: since)
    }

    func shutdown() async {}
}

/// A clock the test moves by hand: the relay's decisions read it, nothing sleeps on it.
final class TestClock: Sendable {
    private let time: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_795_000_000)) { time = Mutex(start) }

    var now: Date { time.withLock { $0 } }

    func advance(seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

extension InMemoryHub {
    /// The relay's context for `box` over this hub, the fixture's store and `clock`, with a
    /// quiet logger, the fixture's box key and a fixed jitter (the inbox's unit tests).
    func context(box: String, fixture: StoreFixture, clock: TestClock, maximumIncomingSize: Int64 = 100_000,
                 diskReserve: Int64 = 0) throws -> RelayContext {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var settings = RelayService.Settings(agencyCode: AgencyCode(box)!, agencyName: "UBND xã Hòa Lợi",
                                             schedule: RetrySchedule(base: .seconds(2), cap: .seconds(60)),
                                             maximumIncomingSize: maximumIncomingSize, inboxFolder: fixture.directory + "/inbox")
        settings.diskReserve = diskReserve
        let pki = try BoxPKI(directory: fixture.directory)
        return RelayContext(settings: settings, store: fixture.store, hub: self,
                            boxSigner: try RelayContext.boxSigner(keyFile: pki.key.key, certificateFile: pki.key.chain),
                            checkReceipt: Self.checkReceipt, now: { clock.now }, draw: { 0.5 }, logger: logger)
    }
}

import DocumentModel
import DocumentSigning
import DurableFiles
import EdXML
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
import X509

/// The relay inside gatewayd: queues signed documents with their edXML package, sends them to
/// the hub (an express worker for urgent lanes and `parallel_uploads` general workers, see `LaneScheduler`), keeps the hub's verified receipts, and brings down
/// what the hub holds for this commune (long poll), answering each document with status 01.
///
/// The store is the truth; this service keeps nothing that matters in memory. It sleeps on the
/// store's change signal or until the next retry is due: no polling while idle.
public final class RelayService: Service, Sendable {
    public struct Settings: Sendable {
        public var agencyCode: AgencyCode
        public var agencyName: String?
        public var schedule: RetrySchedule
        public var ageRule: QueueAgeRule
        public var longPoll: Duration
        public var parallelUploads: Int
        public var hubURL: String
        /// Packages up to this size go in one `POST /v1/packages`; larger ones by tus.
        public var wholeSubmissionLimit: Int64 = 1 << 20
        public var maximumIncomingSize: Int64
        /// Where clerks find incoming documents (`[inbox] folder`).
        public var inboxFolder: String

        public init(configuration: GatewayConfiguration) throws(RelayError) {
            guard let code = configuration.agency.code else {
                throw RelayError(kind: .permanent, code: "not_configured", vi: "Chưa cấu hình agency.code (mã định danh của xã)",
                                 en: "agency.code (this commune's code) is not configured; the relay needs it")
            }
            agencyCode = code
            agencyName = configuration.agency.name
            let upstream = configuration.upstream
            schedule = RetrySchedule(base: upstream.retryBase, cap: upstream.retryCap)
            ageRule = QueueAgeRule(maximumAge: upstream.maximumQueueAge)
            longPoll = upstream.longPoll
            parallelUploads = upstream.parallelUploads
            hubURL = upstream.url ?? ""
            maximumIncomingSize = max(configuration.intake.maximumDocumentSize * 2, 1 << 30)
            inboxFolder = configuration.resolvedInboxFolder
        }
    }

    let settings: Settings
    let store: DocumentStore
    let client: RelayClient
    let hubRoots: [Certificate]
    let logger: Logger
    let board = RelayLinkBoard()
    private let busy = Mutex(Set<DocumentID>())
    /// Wakes `clerkStatusLoop` when a clerk records a status (not the store's signal, which
    /// fires twice per delivery and would make the loop re-read its table each time).
    private let clerkStatusRecorded = ChangeSignal()
    private let scheduler = LaneScheduler()

    package init(configuration: GatewayConfiguration, store: DocumentStore, ioPool: NIOThreadPool, logger: Logger) throws(RelayError) {
        settings = try Settings(configuration: configuration)
        self.store = store
        self.logger = logger
        let clientSettings = try RelayClient.Settings(configuration.upstream)
        do { hubRoots = try DocumentVerifier.trustAnchors(pemFile: clientSettings.caFile) } catch {
            throw RelayError(kind: .untrusted, code: "hub_ca", vi: "Không đọc được CA của cấp trên \(clientSettings.caFile): \(error)",
                             en: "Cannot read the hub CA \(clientSettings.caFile): \(error)")
        }
        client = try RelayClient(settings: clientSettings, ioPool: ioPool, logger: logger)
        if clientSettings.hubKeyPin != nil {
            // Said loudly rather than silently ignored: the technician believes the key is pinned.
            logger.warning("upstream.hub_key_sha256 is set but not enforced yet; the hub is checked against the CA and its host name only (docs/relay.md)")
        }
    }

    public func run() async throws {
        logger.notice("relay started", metadata: ["hub": "\(settings.hubURL)"])
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.queueLoop() }
                group.addTask { await self.uploadLoop(.express) }
                for _ in 0..<self.settings.parallelUploads { group.addTask { await self.uploadLoop(.general) } }
                group.addTask { await self.inboxLoop() }
                group.addTask { await self.clerkStatusLoop() }
            }
        }
        await client.shutdown()
        logger.notice("relay stopped")
    }

    // MARK: Queueing (signed → queued)

    func queueLoop() async {
        let packager = OutboundPackager(agencyCode: settings.agencyCode, agencyName: settings.agencyName)
        while !Task.isCancelled {
            let seen = store.changes.generation
            do {
                for document in try store.list(states: [.signed], limit: 50).reversed() where !Task.isCancelled {
                    await queue(document, packager: packager)
                }
            } catch {
                logger.error("relay could not read the store", metadata: ["error": "\(error)"])
            }
            await store.changes.wait(after: seen, until: nil)
        }
    }

    func queue(_ document: DocumentRecord, packager: OutboundPackager) async {
        let now = Date()
        do {
            let package: DocumentPackage
            do { package = try packager.package(for: document, now: now) } catch {
                try store.transition(document.id, to: .rejected, cause: "edXML package could not be built", reason: error.message)
                logger.warning("document rejected: no edXML package", metadata: ["document.id": "\(document.id)", "reason": "\(error.message)"])
                return
            }
            let (sha256, size) = try await packager.write(package, document: document, layout: store.layout)
            try store.queueForRelay(OutboundRecord(
                documentId: document.id, packageKey: package.header.documentId ?? "", packageSHA256: sha256, packageSize: size,
                lane: RelayLane(document.metadata.priority), queuedAt: now, uploadPath: nil, attempts: 0, nextAttemptAt: nil,
                lastError: nil, receipt: nil, deliveredAt: nil))
            logger.info("document queued for the hub", metadata: ["document.id": "\(document.id)", "package.bytes": "\(size)"])
        } catch {
            // A disk or database failure: the document stays signed and is tried at the next wake-up.
            logger.error("could not queue a document", metadata: ["document.id": "\(document.id)", "error": "\(error)"])
        }
    }

    // MARK: Uploads

    func uploadLoop(_ worker: LaneScheduler.Worker) async {
        while !Task.isCancelled {
            let seen = store.changes.generation
            let now = Date()
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
                logger.error("relay could not read the queue", metadata: ["error": "\(error)"])
                deadline = now.addingTimeInterval(30)
            }
            let instant = deadline.map { ContinuousClock.now + .milliseconds(Int64(max(0, $0.timeIntervalSinceNow) * 1000) + 1) }
            await store.changes.wait(after: seen, until: instant)
        }
    }

    func send(_ id: DocumentID, worker: LaneScheduler.Worker) async {
        guard var outbound = try? store.outbound(id) else { return }
        do {
            try store.relayTransition(outbound, to: .sending, cause: "sending to the hub (attempt \(outbound.attempts + 1), \(worker.rawValue) worker)")
        } catch {
            logger.error("could not mark a document sending", metadata: ["document.id": "\(id)", "error": "\(error)"])
            try? await Task.sleep(for: .seconds(5))  // the database is failing: do not spin on it
            return
        }
        do {
            let packagePath = store.layout.packagePath(id)
            let der: [UInt8]
            if outbound.packageSize <= settings.wholeSubmissionLimit {
                der = try await client.submitWhole(path: packagePath, size: outbound.packageSize, worker: worker)
            } else {
                der = try await upload(&outbound, file: packagePath, worker: worker)
            }
            let receipt = try await ReceiptVerifier.verify(der, expected: .init(
                key: outbound.packageKey, sha256: outbound.packageSHA256, size: outbound.packageSize, from: settings.agencyCode.description),
                hubRoots: hubRoots)
            outbound.receipt = Data(der)
            outbound.deliveredAt = Date()
            outbound.lastError = nil
            outbound.nextAttemptAt = nil
            try store.relayTransition(outbound, to: .delivered,
                                      cause: "delivered: receipt signed by the hub \(receipt.hub.code), received at \(receipt.receivedAt)")
            linkSucceeded()
            logger.notice("document delivered", metadata: ["document.id": "\(id)", "key": "\(outbound.packageKey)"])
        } catch let error as RelayError {
            board.failed(error)
            failed(&outbound, error)
        } catch {
            let wrapped = RelayError(kind: .transient, code: "store", vi: "Lỗi lưu trữ: \(error)", en: "Store failure: \(error)")
            board.failed(wrapped)
            failed(&outbound, wrapped)
        }
        store.changes.notify()
    }

    func failed(_ outbound: inout OutboundRecord, _ error: RelayError) {
        outbound.lastError = error.message
        do {
            switch error.kind {
            case .permanent:
                try store.relayTransition(outbound, to: .rejected, cause: "refused by the hub (\(error.code))", reason: error.message)
                logger.warning("document refused by the hub", metadata: ["document.id": "\(outbound.documentId)", "error": "\(error)"])
            case .transient, .untrusted:
                outbound.attempts += 1
                var random = SystemRandomNumberGenerator()
                let delay = settings.schedule.delay(failures: outbound.attempts, retryAfter: error.retryAfter, using: &random)
                let next = Date().addingTimeInterval(QueueAgeRule.seconds(delay))
                outbound.nextAttemptAt = next
                try store.relayTransition(outbound, to: .queued,
                                          cause: "attempt \(outbound.attempts) failed (\(error.code)); next after \(Int(QueueAgeRule.seconds(delay))) s")
                logger.warning("sending failed, will retry", metadata: [
                    "document.id": "\(outbound.documentId)", "error": "\(error)", "retry_in_s": "\(Int(QueueAgeRule.seconds(delay)))"])
            }
        } catch {
            logger.error("could not record a relay failure", metadata: ["document.id": "\(outbound.documentId)", "error": "\(error)"])
        }
    }

    /// The tus exchange for one large package, from wherever its upload stands.
    func upload(_ outbound: inout OutboundRecord, file: String, worker: LaneScheduler.Worker) async throws(RelayError) -> [UInt8] {
        var machine = TusUpload(length: outbound.packageSize, uploadPath: outbound.uploadPath)
        var breaksWithoutProgress = 0
        var lastOffset: Int64 = -1
        while true {
            switch machine.nextAction {
            case .create(let length):
                let path = try await client.createUpload(length: length, key: outbound.packageKey, sha256: outbound.packageSHA256, worker: worker)
                machine.created(location: path)
                outbound.uploadPath = path
                saveProgress(outbound)
            case .probe(let path):
                switch try await client.probeUpload(path, worker: worker) {
                case .gone:
                    machine.lost()
                    outbound.uploadPath = nil
                    saveProgress(outbound)
                case .offset(let offset, let length):
                    do { try machine.probed(offset: offset, length: length) } catch { throw RelayError.protocolViolation(error.description) }
                    if offset <= lastOffset {
                        breaksWithoutProgress += 1
                        // Two breaks in a row with nothing gained: the link is down; back off.
                        if breaksWithoutProgress >= 2 {
                            throw RelayError(kind: .transient, code: "no_progress", vi: "Tải lên không tiến triển (dừng ở byte \(offset))",
                                             en: "The upload makes no progress (stuck at byte \(offset))")
                        }
                    } else {
                        breaksWithoutProgress = 0
                    }
                    lastOffset = offset
                }
            case .send(let path, let offset):
                let result: RelayClient.PatchResult
                do {
                    result = try await client.patchUpload(path, file: file, offset: offset, length: outbound.packageSize, worker: worker)
                } catch {
                    if error.kind == .permanent { throw error }
                    // Bytes before the break are kept by the hub: ask where to go on (at once).
                    logger.info("upload interrupted, resuming", metadata: ["document.id": "\(outbound.documentId)", "error": "\(error)"])
                    machine.interrupted()
                    continue
                }
                switch result {
                case .accepted(let offset, let receiptPath):
                    do { try machine.sent(newOffset: offset, receiptPath: receiptPath) } catch { throw RelayError.protocolViolation(error.description) }
                case .offsetMismatch:
                    machine.interrupted()
                case .gone:
                    machine.lost()
                    outbound.uploadPath = nil
                    saveProgress(outbound)
                }
            case .fetchReceipt(let path):
                return try await client.fetchReceipt(path, worker: worker)
            }
        }
    }

    func saveProgress(_ outbound: OutboundRecord) {
        do { try store.updateOutbound(outbound) } catch {
            logger.error("could not save upload progress", metadata: ["document.id": "\(outbound.documentId)", "error": "\(error)"])
        }
    }

    /// When the link comes back, documents waiting out a backoff go at once: the box resumes by
    /// itself without waiting up to `retry_cap` per document.
    func linkSucceeded() {
        if board.succeeded() {
            do {
                try store.clearRelayRetryTimes()
                store.changes.notify()
            } catch {
                logger.error("could not clear retry times", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Inbox

    func inboxLoop() async {
        var failures = 0
        var directoryTriedAt: Date?
        while !Task.isCancelled {
            if directoryTriedAt.map({ Date().timeIntervalSince($0) > Self.directoryRefresh }) ?? true {
                directoryTriedAt = Date()
                await refreshDirectory()
            }
            do {
                await placePendingInInboxFolder()
                try await sendPendingStatuses()
                let items = try await client.pollInbox(wait: settings.longPoll)
                linkSucceeded()
                for item in items where !Task.isCancelled { try await receive(item) }
                failures = 0
            } catch {
                if Task.isCancelled { return }
                failures += 1
                board.failed(error)
                var random = SystemRandomNumberGenerator()
                let delay = settings.schedule.delay(failures: failures, retryAfter: error.retryAfter, using: &random)
                logger.warning("inbox exchange failed", metadata: ["error": "\(error)", "retry_in_s": "\(Int(QueueAgeRule.seconds(delay)))"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    func receive(_ item: RelayWaitingItem) async throws(RelayError) {
        let existing: InboundRecord?
        do { existing = try store.inbound(hubID: item.id) } catch { throw Self.storeError(error) }
        if var existing {
            // Stored before; the ack (or its answer) was lost. Acknowledging again is harmless.
            try await client.acknowledgeInboxItem(item.id)
            if existing.ackedAt == nil {
                existing.ackedAt = Date()
                do { try store.saveInbound(existing) } catch { throw Self.storeError(error) }
            }
            return
        }
        let layout = store.layout
        let temporary = layout.temporaryDirectory + "/inbox-\(item.id).part"
        let (sha256, size) = try await client.downloadInboxItem(item.id, to: temporary, maximumSize: settings.maximumIncomingSize)
        guard sha256 == item.sha256.lowercased(), size == item.size else {
            POSIXFile.unlinkIfPresent(temporary)
            throw RelayError.protocolViolation("inbox item \(item.id): got \(size) bytes with SHA-256 \(sha256), announced \(item.size) and \(item.sha256)")
        }
        var record = InboundRecord(hubID: item.id, kind: item.kind, packageKey: item.key, sender: item.from, sha256: sha256, size: size,
                                   storedAt: Date(), ackedAt: nil, statusSentAt: nil, statusReceipt: nil, folder: nil)
        do {
            try POSIXFile.rename(temporary, layout.inboxPath(hubID: item.id))
            try POSIXFile.fsyncDirectory(layout.inboxDirectory)
            let status = item.kind == "status" ? await recipientStatus(record, path: layout.inboxPath(hubID: item.id)) : nil
            try store.saveInbound(record, attaching: status)
        } catch {
            POSIXFile.unlinkIfPresent(temporary)
            throw Self.storeError(error)
        }
        logger.notice("incoming package stored", metadata: ["hub.id": "\(item.id)", "kind": "\(item.kind)", "key": "\(item.key)", "from": "\(item.from)"])
        try await client.acknowledgeInboxItem(item.id)
        record.ackedAt = Date()
        do { try store.saveInbound(record) } catch { throw Self.storeError(error) }
        if record.kind == "document" {
            await placeInInboxFolder(&record)
            try await sendArrivalStatus(&record)
        }
    }

    /// The agency directory is fetched when the relay starts and then twice a day (it changes
    /// when communes merge or are renamed — rarely, but then it matters); a failure waits for the
    /// next turn, with the stored copy still in use.
    static let directoryRefresh: TimeInterval = 12 * 3600

    func refreshDirectory() async {
        do {
            let entries = try await client.fetchDirectory()
            try store.replaceDirectory(entries, fetchedAt: Date())
            logger.info("agency directory fetched", metadata: ["agencies": "\(entries.count)"])
        } catch {
            logger.warning("could not fetch the agency directory", metadata: ["error": "\(error)"])
        }
    }

    /// A status package about one of our documents, as a record to attach to it; nil (and a log
    /// line) when it cannot be read or is about a document this box did not send.
    func recipientStatus(_ record: InboundRecord, path: String) async -> RecipientStatusRecord? {
        var limits = ReadLimits()
        limits.maxAttachments = 0
        guard let read = try? await PackageReader.read(path: path, limits: limits), case .status(let status) = read.package else {
            logger.warning("incoming status package could not be read", metadata: ["hub.id": "\(record.hubID)", "key": "\(record.packageKey)"])
            return nil
        }
        guard let key = status.responseFor.documentId, let id = try? store.documentID(forPackageKey: key) else {
            logger.warning("status about a document this box did not send", metadata: [
                "hub.id": "\(record.hubID)", "for": "\(status.responseFor.documentId ?? status.responseFor.code ?? "")", "from": "\(status.from.organId)"])
            return nil
        }
        logger.notice("status from a recipient", metadata: [
            "document.id": "\(id)", "from": "\(status.from.organId)", "status": "\(status.statusCode)"])
        let staff = [status.staffInfo?.staff, status.staffInfo?.department].compactMap { $0 }.joined(separator: ", ")
        return RecipientStatusRecord(seq: nil, documentId: id, hubID: record.hubID, fromCode: status.from.organId, fromName: status.from.organName,
                                     statusCode: status.statusCode.rawValue, description: status.description,
                                     staff: staff.isEmpty ? nil : staff, statusTime: status.timestamp, receivedAt: record.storedAt)
    }

    /// Shows an incoming document to the clerks (`InboxFolderWriter`). A failure (a full disk, a
    /// folder that is not writable) is logged and tried again before the next poll: the package
    /// itself is already safe in the store.
    func placeInInboxFolder(_ record: inout InboundRecord) async {
        do {
            let name = try await InboxFolderWriter(folder: settings.inboxFolder).place(record, packagePath: store.layout.inboxPath(hubID: record.hubID))
            record.folder = name
            try store.saveInbound(record)
            logger.notice("incoming document placed in the inbox folder", metadata: ["hub.id": "\(record.hubID)", "folder": "\(name)"])
        } catch {
            logger.error("could not place an incoming document in the inbox folder",
                         metadata: ["hub.id": "\(record.hubID)", "folder": "\(settings.inboxFolder)", "error": "\(error)"])
        }
    }

    func placePendingInInboxFolder() async {
        guard let pending = try? store.inboundAwaitingFolder() else { return }
        for var record in pending { await placeInInboxFolder(&record) }
    }

    func sendPendingStatuses() async throws(RelayError) {
        let pending: [InboundRecord]
        do { pending = try store.inboundAwaitingStatus() } catch { throw Self.storeError(error) }
        for var record in pending { try await sendArrivalStatus(&record) }
    }

    /// Status 01 "đã đến" for an incoming document, built once (kept on disk so a resend after a
    /// crash is the same package and the same key), submitted, its receipt checked and kept.
    func sendArrivalStatus(_ record: inout InboundRecord) async throws(RelayError) {
        let layout = store.layout
        let statusPath = layout.arrivalStatusPath(hubID: record.hubID)
        let status: StatusPackage
        do {
            if FileManager.default.fileExists(atPath: statusPath) {
                guard case .status(let stored) = try await PackageReader.read(path: statusPath).package else {
                    throw RelayError.protocolViolation("\(statusPath) is not a status package")
                }
                status = stored
            } else {
                guard case .document(let original) = try await PackageReader.read(path: layout.inboxPath(hubID: record.hubID)).package else {
                    return  // not a document after all: nothing to answer
                }
                status = statusAnswering(original.header, code: .arrived, description: StatusCode.arrived.name, staff: nil, at: Date())
                try await PackageWriter.write(status, to: statusPath)
            }
        } catch let error as RelayError {
            throw error
        } catch {
            throw RelayError(kind: .transient, code: "status_package", vi: "Không lập được gói trạng thái 01: \(error)",
                             en: "Cannot build the 01 status package: \(error)")
        }
        let digest: (sha256: String, size: Int64)
        do { digest = try POSIXFile.sha256(ofFile: statusPath, sync: true) } catch { throw Self.storeError(error) }
        let (sha256, size) = digest
        let der = try await client.submitWhole(path: statusPath, size: size, worker: .general)
        let key = Self.statusKey(status)
        _ = try await ReceiptVerifier.verify(der, expected: .init(key: key, sha256: sha256, size: size, from: settings.agencyCode.description),
                                             hubRoots: hubRoots)
        record.statusSentAt = Date()
        record.statusReceipt = Data(der)
        do { try store.saveInbound(record) } catch { throw Self.storeError(error) }
        logger.info("status 01 sent", metadata: ["hub.id": "\(record.hubID)", "key": "\(key)"])
    }

    // MARK: Statuses the clerks send (03 registered … 06 done, 02 refused)

    /// Why a clerk's status was not recorded (the local API's 4xx).
    public enum ClerkStatusRefusal: Error, Sendable {
        case noSuchDocument(Int64)
        case notAllowed(String)
        case reasonRequired
        case cannotBuild(String)
    }

    /// The codes a clerk may send (QCVN 102): 01 is the box's own, 13–16 are the sender's side.
    public static let clerkStatusCodes: [StatusCode] = [.refused, .accepted, .assigned, .inProgress, .finished]

    /// Records a clerk's status about incoming document `hubID`: the status package is built from
    /// the document's header, written and fsynced under `store/inbox/`, then its row is committed;
    /// `clerkStatusLoop` sends it. Once this returns, the status will reach the hub.
    package func recordClerkStatus(hubID: Int64, code: String, description: String?, staff: String?) async throws(ClerkStatusRefusal) -> OutgoingStatusRecord {
        guard let statusCode = StatusCode(rawValue: code), Self.clerkStatusCodes.contains(statusCode) else {
            throw .notAllowed(code)
        }
        let description = Self.trimmed(description)
        if statusCode == .refused && description == nil { throw .reasonRequired }
        guard let record = try? store.inbound(hubID: hubID), record.kind == "document" else { throw .noSuchDocument(hubID) }
        let now = Date()
        let path = store.layout.inboxDirectory + "/\(hubID).status-\(code)-\(Int(now.timeIntervalSince1970 * 1000)).edxml"
        let status: StatusPackage
        do {
            guard case .document(let original) = try await PackageReader.read(path: store.layout.inboxPath(hubID: hubID)).package else {
                throw ClerkStatusRefusal.noSuchDocument(hubID)
            }
            status = statusAnswering(original.header, code: statusCode, description: description ?? statusCode.name,
                                     staff: Self.trimmed(staff), at: now)
            try await PackageWriter.write(status, to: path)
            _ = try POSIXFile.sha256(ofFile: path, sync: true)
            try POSIXFile.fsyncDirectory(store.layout.inboxDirectory)
            let saved = try store.addOutgoingStatus(OutgoingStatusRecord(
                seq: nil, hubID: hubID, statusCode: code, description: status.description, staff: status.staffInfo?.staff,
                packageFile: (path as NSString).lastPathComponent, packageKey: Self.statusKey(status), createdAt: now,
                sentAt: nil, receipt: nil, lastError: nil, refused: false))
            clerkStatusRecorded.notify()
            return saved
        } catch let refusal as ClerkStatusRefusal {
            throw refusal
        } catch {
            POSIXFile.unlinkIfPresent(path)
            throw .cannotBuild("\(error)")
        }
    }

    /// Sends the clerks' statuses as they are recorded, retrying with the relay's backoff while
    /// the link is down.
    func clerkStatusLoop() async {
        var failures = 0
        while !Task.isCancelled {
            let seen = clerkStatusRecorded.generation
            var retryIn: Duration?
            for var pending in (try? store.unsentOutgoingStatuses()) ?? [] where !Task.isCancelled {
                do {
                    let path = store.layout.inboxDirectory + "/" + pending.packageFile
                    let (sha256, size) = try POSIXFile.sha256(ofFile: path, sync: false)
                    let der = try await client.submitWhole(path: path, size: size, worker: .express)
                    _ = try await ReceiptVerifier.verify(der, expected: .init(key: pending.packageKey, sha256: sha256, size: size,
                                                                           from: settings.agencyCode.description), hubRoots: hubRoots)
                    pending.sentAt = Date()
                    pending.receipt = Data(der)
                    pending.lastError = nil
                    try store.saveOutgoingStatus(pending)
                    failures = 0
                    logger.notice("clerk's status sent", metadata: ["hub.id": "\(pending.hubID)", "status": "\(pending.statusCode)"])
                } catch {
                    let relayError = error as? RelayError
                    pending.lastError = relayError?.message ?? "\(error)"
                    pending.refused = relayError?.kind == .permanent
                    try? store.saveOutgoingStatus(pending)
                    logger.warning("clerk's status not sent", metadata: ["hub.id": "\(pending.hubID)", "error": "\(error)"])
                    if !pending.refused {
                        failures += 1
                        var random = SystemRandomNumberGenerator()
                        retryIn = settings.schedule.delay(failures: failures, retryAfter: relayError?.retryAfter, using: &random)
                        break
                    }
                }
            }
            await clerkStatusRecorded.wait(after: seen, until: retryIn.map { ContinuousClock.now + $0 })
        }
    }

    /// A status package answering a document with `header`, from this commune.
    func statusAnswering(_ header: MessageHeader, code: StatusCode, description: String?, staff: String?, at date: Date) -> StatusPackage {
        StatusPackage(
            from: Organization(organId: settings.agencyCode.description, organName: settings.agencyName),
            responseFor: ResponseFor(organId: header.from.organId, code: header.code.description, promulgationDate: header.promulgationInfo.date,
                                     documentId: header.documentId),
            staffInfo: staff.map { StaffInfo(staff: $0) }, statusCode: code, description: description,
            timestamp: EdXMLTimestamp(date).description)
    }

    static func trimmed(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text
    }

    /// The hub's key for a status package (docs/protocol.md).
    static func statusKey(_ status: StatusPackage) -> String {
        "status:\(status.from.organId)|\(status.responseFor.documentId ?? status.responseFor.code ?? "")|\(status.statusCode.rawValue)|\(status.timestamp)"
    }

    static func storeError(_ error: any Error) -> RelayError {
        RelayError(kind: .transient, code: "store", vi: "Lỗi lưu trữ: \(error)", en: "Store failure: \(error)")
    }

    // MARK: Status

    public func status(now: Date = Date()) -> RelayStatus {
        let link = board.snapshot
        var lanes: [RelayStatus.Lane] = RelayLane.allCases.map { .init(lane: $0.name, name: $0.vietnameseName, queued: 0, sending: 0) }
        var queuedSince: [Date] = []
        var inboxCount = 0
        if let queue = try? store.relayQueueSummary() {
            for entry in queue {
                guard let index = RelayLane.allCases.firstIndex(of: entry.lane) else { continue }
                if entry.sending { lanes[index].sending += 1 } else { lanes[index].queued += 1 }
                queuedSince.append(entry.queuedAt)
            }
        }
        if let count = try? store.inboundCount() { inboxCount = count }
        let warning = settings.ageRule.warning(queuedSince: queuedSince, now: now)
        return RelayStatus(link: link.link, hub: settings.hubURL, linkSince: link.since, lastSuccessAt: link.lastSuccessAt,
                           lastError: link.lastError, lastErrorAt: link.lastErrorAt, lanes: lanes, warning: warning?.message,
                           maximumQueueAgeSeconds: settings.ageRule.maximumAge.components.seconds, inboxReceived: inboxCount,
                           oldestQueuedAt: queuedSince.min())
    }
}

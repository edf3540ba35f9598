import DurableFiles
import DocumentModel
import EdXML
import Foundation
import ServiceLifecycle
import TimeJSON

/// The inbox puller: long-polls the hub for what it holds for this commune, stores each package
/// durably before acknowledging it, shows documents to the clerks (`InboxFolderWriter`) and
/// answers each with status 01 "đã đến"; a status about one of our documents is attached to it.
package struct InboxService: Service {
    let context: RelayContext

    package init(context: RelayContext) { self.context = context }

    package func run() async {
        let context = context
        await context.repeatWithBackoff({ () async throws(RelayError) -> Duration in
            try await pollOnce()
            return .zero
        }, failed: { error, backoff in
            context.linkFailed(error)
            context.logger.warning("inbox exchange failed", metadata: ["error": "\(error)", "retry_in_s": "\(Int(QueueAgeRule.seconds(backoff)))"])
            return backoff
        })
    }

    /// What was left undone first (folders, statuses, items set aside whose time has come), then
    /// one long poll and what it brought. Only a failure of the link itself ends the turn: an item
    /// that fails is refused or set aside (`take`), and the next one is taken.
    package func pollOnce() async throws(RelayError) {
        let backlog = context.inboxBacklog
        await recheckVerdicts()
        await placePendingInInboxFolder()
        try await sendPendingStatuses()
        try await askForRedelivery()
        for item in backlog.dueItems(now: context.now()) where !Task.isCancelled { try await take(item) }
        let items = try await context.hub.pollInbox(wait: context.settings.longPoll, after: backlog.cursor)
        // The link is back: a responder that could not be reached may answer now.
        if context.linkSucceeded() { await recheckVerdicts(now: true) }
        for item in items where !Task.isCancelled { try await take(item) }
    }

    /// The redeliveries this box has to ask for (after a restore, or by hand: `PendingRedelivery`),
    /// before the poll. Once the hub agreed, its file goes and the inbox is listed from the start
    /// again: the items come back under their old ids, below the cursor. A hub that refuses (an
    /// older hubd without the route) sets the request aside on the relay's backoff; only a failed
    /// link is thrown, and the file stays until a hub agrees.
    func askForRedelivery() async throws(RelayError) {
        let backlog = context.inboxBacklog, logger = context.logger
        guard backlog.isDue(.redelivery, now: context.now()) else { return }
        let pending = PendingRedelivery.find(in: context.store.layout.dataDirectory) { path, error in
            logger.error("redelivery request not readable, left in place", metadata: ["file": "\(path)", "error": "\(error)"])
        }
        for request in pending where !Task.isCancelled {
            let answer: RelayRedeliveryAnswer
            do { answer = try await context.hub.requestRedelivery(since: request.since) } catch {
                if error.isLinkFailure { throw error }
                let entry = backlog.setAside(.redelivery, item: nil, after: error, context: context)
                logger.warning("redelivery request set aside", metadata: [
                    "reason": "\(error)", "since": "\(GatewayJSON.format(request.since))", "retry_at": "\(entry.retryAt)"])
                return
            }
            backlog.cleared(.redelivery)
            backlog.rewind()
            do { try request.done() } catch {
                logger.error("redelivery request file not removed; the hub will be asked again", metadata: ["file": "\(request.path)", "error": "\(error)"])
            }
            logger.notice("the hub delivers again what this box acknowledged since", metadata: [
                "since": "\(GatewayJSON.format(request.since))", "why": "\(request.reason)", "items": "\(answer.requeued)"])
            if answer.from > request.since {
                // Beyond the hub's `keep_delivered_days`: what came before may be missing here.
                logger.warning("the hub redelivers only from a later time: incoming documents delivered before it may be missing", metadata: [
                    "asked": "\(GatewayJSON.format(request.since))", "from": "\(GatewayJSON.format(answer.from))"])
            }
        }
    }

    /// One item: received, or set aside with its reason (retried on its own backoff).
    func take(_ item: RelayWaitingItem) async throws(RelayError) {
        let backlog = context.inboxBacklog
        do {
            try await receive(item)
            backlog.cleared(.item(item.id))
        } catch {
            // The link failed: the item was not to blame, and is listed again by the next poll.
            if error.isLinkFailure { throw error }
            if error.httpStatus == 404 {
                // Gone from the hub (taken or withdrawn meanwhile): nothing left to retry.
                backlog.cleared(.item(item.id))
                context.logger.notice("incoming item gone from the hub", metadata: ["hub.id": "\(item.id)", "key": "\(item.key)"])
            } else {
                let entry = backlog.setAside(.item(item.id), item: item, after: error, context: context)
                context.logger.warning("incoming item set aside", metadata: [
                    "hub.id": "\(item.id)", "key": "\(item.key)", "from": "\(item.from)", "reason": "\(error)",
                    "failures": "\(entry.failures)", "retry_at": "\(entry.retryAt)"])
            }
        }
        backlog.passed(item.id)
    }

    /// Refuses an item this box can never take; the hub passes the reason to its sender (a 02).
    func refuse(_ item: RelayWaitingItem, _ code: RelayErrorCode, vi: String, en: String) async throws(RelayError) {
        try await context.hub.refuseInboxItem(item.id, RelayInboxRefusal(code: code, vi: vi, en: en))
        context.logger.warning("incoming item refused", metadata: [
            "hub.id": "\(item.id)", "key": "\(item.key)", "from": "\(item.from)", "code": "\(code.rawValue)", "reason": "\(en)"])
    }

    /// Stores and acknowledges an item, or refuses it when it can never be taken (too large, not
    /// readable, fields that break the rules); throws what may pass (the disk reserve reached,
    /// bytes that do not match the listed hash), for `take` to set the item aside.
    func receive(_ item: RelayWaitingItem) async throws(RelayError) {
        let store = context.store, hub = context.hub
        let existing: InboundRecord?
        do { existing = try store.inbound(hubID: item.id) } catch { throw .store(error) }
        if var existing {
            // Stored before; the ack (or its answer) was lost. Acknowledging again is harmless.
            try await hub.acknowledgeInboxItem(item.id)
            if existing.ackedAt == nil {
                existing.ackedAt = context.now()
                do { try store.saveInbound(existing) } catch { throw .store(error) }
            }
            return
        }
        let layout = store.layout
        let limit = context.settings.maximumIncomingSize
        guard item.size <= limit else {
            return try await refuse(item, .tooLarge, vi: "Gói tin \(item.size) byte, lớn hơn giới hạn \(limit) byte của hộp nhận",
                                    en: "The package is \(item.size) bytes, more than the receiving box's limit of \(limit) bytes")
        }
        try checkReserve(for: item.size)
        let temporary = layout.temporaryDirectory + "/inbox-\(item.id).part"
        // No more than announced: bytes beyond it cannot match the listed hash anyway.
        let (sha256, size) = try await hub.downloadInboxItem(item.id, to: temporary, maximumSize: item.size)
        guard sha256 == item.sha256.lowercased(), size == item.size else {
            POSIXFile.unlinkIfPresent(temporary)
            throw RelayError.protocolViolation("inbox item \(item.id): got \(size) bytes with SHA-256 \(sha256), announced \(item.size) and \(item.sha256)")
        }
        if let problem = await unusable(temporary) {
            POSIXFile.unlinkIfPresent(temporary)
            return try await refuse(item, problem.code, vi: problem.vi, en: problem.en)
        }
        var record = InboundRecord(hubID: item.id, kind: item.kind, packageKey: item.key, sender: item.from, sha256: sha256, size: size,
                                   storedAt: context.now(), ackedAt: nil, statusSentAt: nil, statusReceipt: nil, folder: nil)
        do {
            try POSIXFile.rename(temporary, layout.inboxPath(hubID: item.id))
            try POSIXFile.fsyncDirectory(layout.inboxDirectory)
            let status = item.packageKind == .status ? await recipientStatus(record, path: layout.inboxPath(hubID: item.id)) : nil
            try store.saveInbound(record, attaching: status)
        } catch {
            POSIXFile.unlinkIfPresent(temporary)
            throw .store(error)
        }
        context.logger.notice("incoming package stored", metadata: ["hub.id": "\(item.id)", "kind": "\(item.kind)", "key": "\(item.key)", "from": "\(item.from)"])
        try await hub.acknowledgeInboxItem(item.id)
        record.ackedAt = context.now()
        do { try store.saveInbound(record) } catch { throw .store(error) }
        if record.packageKind == .document {
            await placeInInboxFolder(&record)
            try await answerArrival(&record)
        }
    }

    /// The disk reserve (`intake.disk_reserve`) holds for downloads too: an item that would eat
    /// into it waits, set aside, until space is freed.
    func checkReserve(for size: Int64) throws(RelayError) {
        let reserve = context.settings.diskReserve
        let free: Int64
        do { free = try POSIXFile.freeBytes(at: context.store.layout.temporaryDirectory) } catch { throw .store(error) }
        guard free - size >= reserve else {
            throw RelayError(kind: .transient, code: .store,
                             vi: "Không đủ chỗ trống: gói \(size) byte, còn trống \(free) byte, dự trữ \(reserve) byte",
                             en: "Not enough free space: the package is \(size) bytes, \(free) bytes free, reserve \(reserve) bytes")
        }
    }

    /// Why a downloaded package can never be taken: not readable, or fields that break edXML's
    /// rules (a date that does not exist — no 01 could be built for it). Nil when it is usable.
    func unusable(_ path: String) async -> (code: RelayErrorCode, vi: String, en: String)? {
        let read: ReadResult
        do { read = try await PackageReader.read(path: path) } catch {
            return (.unreadablePackage, "Không đọc được gói edXML: \(error)", "Not a readable edXML package: \(error)")
        }
        guard read.findings.isEmpty else {
            let list = read.findings.prefix(5).map(\.description).joined(separator: "; ")
            return (.invalidFields, "Gói tin có trường không hợp lệ: \(list)", "The package has fields that break the rules: \(list)")
        }
        return nil
    }

    /// A status package about one of our documents, as a record to attach to it; nil (and a log
    /// line) when it cannot be read or is about a document this box did not send.
    func recipientStatus(_ record: InboundRecord, path: String) async -> RecipientStatusRecord? {
        let logger = context.logger
        var limits = ReadLimits()
        limits.maxAttachments = 0
        guard let read = try? await PackageReader.read(path: path, limits: limits), case .status(let status) = read.package else {
            logger.warning("incoming status package could not be read", metadata: ["hub.id": "\(record.hubID)", "key": "\(record.packageKey)"])
            return nil
        }
        guard let key = status.responseFor.documentId, let id = try? context.store.documentID(forPackageKey: key) else {
            logger.warning("status about a document this box did not send", metadata: [
                "hub.id": "\(record.hubID)", "for": "\(status.responseFor.documentId ?? status.responseFor.code ?? "")", "from": "\(status.from.organId)"])
            return nil
        }
        // Only the document's recipients speak about it: another enrolled box's "02 refused"
        // about our document is kept as a package and attached to nothing.
        let recipients = ((try? context.store.document(id)) ?? nil)?.metadata.recipients.map(\.description) ?? []
        guard recipients.contains(status.from.organId), record.sender == status.from.organId else {
            logger.warning("status from an agency the document was not sent to, ignored", metadata: [
                "hub.id": "\(record.hubID)", "document.id": "\(id)", "from": "\(status.from.organId)", "sent_by": "\(record.sender)",
                "recipients": "\(recipients.joined(separator: ","))"])
            return nil
        }
        logger.notice("status from a recipient", metadata: [
            "document.id": "\(id)", "from": "\(status.from.organId)", "status": "\(status.statusCode)"])
        let staff = [status.staffInfo?.staff, status.staffInfo?.department].compactMap { $0 }.joined(separator: ", ")
        // Named by the hub's directory, not by the package's own OrganName (the sender's claim).
        let name = ((try? context.store.directoryEntries()) ?? []).first { $0.code.description == status.from.organId }?.name
        return RecipientStatusRecord(seq: nil, documentId: id, hubID: record.hubID, fromCode: status.from.organId, fromName: name,
                                     statusCode: status.statusCode.rawValue, description: status.description,
                                     staff: staff.isEmpty ? nil : staff, statusTime: status.timestamp, receivedAt: record.storedAt)
    }

    /// Shows an incoming document to the clerks (`InboxFolderWriter`). A failure (a full disk, a
    /// folder that is not writable) is logged and tried again before the next poll: the package
    /// itself is already safe in the store.
    func placeInInboxFolder(_ record: inout InboundRecord) async {
        let folder = context.settings.inboxFolder
        if record.verdict == nil {
            record.verdict = await verify(record)
            do { try context.store.saveInbound(record) } catch {
                context.logger.error("incoming verdict not saved", metadata: ["hub.id": "\(record.hubID)", "error": "\(error)"])
            }
        }
        do {
            // The sender's name comes from the hub's directory: fetched now if the refresher has
            // not yet (a document arriving first after enrolment would be named by its code).
            if (try? context.store.directoryFetchedAt()) ?? nil == nil { try? await DirectoryRefresher(context: context).refresh() }
            var writer = InboxFolderWriter(folder: folder, layout: context.store.layout)
            writer.directory = Dictionary(((try? context.store.directoryEntries()) ?? []).map { ($0.code.description, $0.name) },
                                          uniquingKeysWith: { first, _ in first })
            let name = try await writer.place(record, packagePath: context.store.layout.inboxPath(hubID: record.hubID))
            record.folder = name
            try context.store.saveInbound(record)
            writer.placed(hubID: record.hubID)
            context.logger.notice("incoming document placed in the inbox folder", metadata: ["hub.id": "\(record.hubID)", "folder": "\(name)"])
        } catch {
            context.logger.error("could not place an incoming document in the inbox folder",
                                 metadata: ["hub.id": "\(record.hubID)", "folder": "\(folder)", "error": "\(error)"])
        }
    }

    /// The signatures of an incoming document (`IncomingVerifier`), unpacked in `store/tmp/`.
    func verify(_ record: InboundRecord) async -> IncomingVerdict {
        let scratch = context.store.layout.temporaryDirectory + "/verify-\(record.hubID)"
        try? FileManager.default.removeItem(atPath: scratch)
        try? POSIXFile.makeDirectory(scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let verdict = await context.settings.verifier.verify(packagePath: context.store.layout.inboxPath(hubID: record.hubID), scratch: scratch,
                                                             now: context.now())
        context.logger.notice("incoming document verified", metadata: [
            "hub.id": "\(record.hubID)", "verdict": "\(verdict.outcome.rawValue)",
            "reasons": "\(verdict.findings.compactMap(\.reason).joined(separator: " | "))"])
        return verdict
    }

    /// "Could not be checked" verdicts tried again once `recheckInterval` has passed, or at once
    /// (`now`) when the link came back: the new verdict with a history line, in the row and in
    /// the folder's `thong-tin.txt`.
    func recheckVerdicts(now: Bool = false) async {
        let due = now ? context.now() : context.now().addingTimeInterval(-QueueAgeRule.seconds(context.settings.recheckInterval))
        guard let records = try? context.store.inboundToRecheck(before: due) else { return }
        for var record in records where !Task.isCancelled {
            guard let earlier = record.verdict else { continue }
            let verdict = await verify(record).replacing(earlier)
            record.verdict = verdict
            do { try context.store.saveInbound(record) } catch { continue }
            if let name = record.folder, verdict.outcome != earlier.outcome {
                let writer = InboxFolderWriter(folder: context.settings.inboxFolder, layout: context.store.layout)
                try? writer.updateVerdict(folderName: name, verdict)
                // Found invalid now: marked in its name as if it had been on arrival.
                if verdict.outcome == .invalid, let marked = try? writer.markInvalid(folderName: name) {
                    record.folder = marked
                    try? context.store.saveInbound(record)
                }
            }
        }
    }

    func placePendingInInboxFolder() async {
        guard let pending = try? context.store.inboundAwaitingFolder() else { return }
        for var record in pending { await placeInInboxFolder(&record) }
    }

    /// The 01s still owed, each when its own backoff allows: one that cannot be built or is
    /// refused waits aside, and never holds the poll.
    func sendPendingStatuses() async throws(RelayError) {
        let pending: [InboundRecord]
        do { pending = try context.store.inboundAwaitingStatus() } catch { throw .store(error) }
        for var record in pending where context.inboxBacklog.isDue(.status(record.hubID), now: context.now()) {
            try await answerArrival(&record)
        }
    }

    /// `sendArrivalStatus`, set aside on failure; only a failed link is thrown.
    func answerArrival(_ record: inout InboundRecord) async throws(RelayError) {
        do {
            try await sendArrivalStatus(&record)
            context.inboxBacklog.cleared(.status(record.hubID))
        } catch {
            if error.isLinkFailure { throw error }
            let entry = context.inboxBacklog.setAside(.status(record.hubID), item: nil, after: error, context: context)
            context.logger.warning("status 01 set aside", metadata: [
                "hub.id": "\(record.hubID)", "reason": "\(error)", "failures": "\(entry.failures)", "retry_at": "\(entry.retryAt)"])
        }
    }

    /// Status 01 "đã đến" for an incoming document, built and XML-signed with the box's key once
    /// (kept on disk so a resend after a crash is the same package and the same key: a signature
    /// made again would differ, and the hub refuses other bytes under a key it holds), submitted,
    /// its receipt checked and kept.
    func sendArrivalStatus(_ record: inout InboundRecord) async throws(RelayError) {
        let layout = context.store.layout
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
                status = StatusAnswer(settings: context.settings).answering(original.header, code: .arrived, description: StatusCode.arrived.name,
                                                                           staff: nil, at: context.now())
                // The box's key: no person answers 01, the box does on arrival.
                try await PackageWriter.write(status, to: statusPath, signer: context.boxSigner)
            }
        } catch let error as RelayError {
            throw error
        } catch {
            throw RelayError(kind: .transient, code: .statusPackage, vi: "Không lập được gói trạng thái 01: \(error)",
                             en: "Cannot build the 01 status package: \(error)")
        }
        let digest: (sha256: String, size: Int64)
        do { digest = try POSIXFile.sha256(ofFile: statusPath, sync: true) } catch { throw .store(error) }
        let key = StatusAnswer.key(status)
        let (der, _) = try await context.submitAndVerify(.init(path: statusPath, key: key, sha256: digest.sha256, size: digest.size), worker: .general)
        record.statusSentAt = context.now()
        record.statusReceipt = Data(der)
        do { try context.store.saveInbound(record) } catch { throw .store(error) }
        context.logger.info("status 01 sent", metadata: ["hub.id": "\(record.hubID)", "key": "\(key)"])
    }
}

import DurableFiles
import DocumentModel
import EdXML
import Foundation
import ServiceLifecycle

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

    /// What was left undone first (folders, statuses), then one long poll and what it brought.
    package func pollOnce() async throws(RelayError) {
        await recheckVerdicts()
        await placePendingInInboxFolder()
        try await sendPendingStatuses()
        let items = try await context.hub.pollInbox(wait: context.settings.longPoll)
        // The link is back: a responder that could not be reached may answer now.
        if context.linkSucceeded() { await recheckVerdicts(now: true) }
        for item in items where !Task.isCancelled { try await receive(item) }
    }

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
        let temporary = layout.temporaryDirectory + "/inbox-\(item.id).part"
        let (sha256, size) = try await hub.downloadInboxItem(item.id, to: temporary, maximumSize: context.settings.maximumIncomingSize)
        guard sha256 == item.sha256.lowercased(), size == item.size else {
            POSIXFile.unlinkIfPresent(temporary)
            throw RelayError.protocolViolation("inbox item \(item.id): got \(size) bytes with SHA-256 \(sha256), announced \(item.size) and \(item.sha256)")
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
            try await sendArrivalStatus(&record)
        }
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
        let folder = context.settings.inboxFolder
        if record.verdict == nil {
            record.verdict = await verify(record)
            do { try context.store.saveInbound(record) } catch {
                context.logger.error("incoming verdict not saved", metadata: ["hub.id": "\(record.hubID)", "error": "\(error)"])
            }
        }
        do {
            let writer = InboxFolderWriter(folder: folder, layout: context.store.layout)
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

    func sendPendingStatuses() async throws(RelayError) {
        let pending: [InboundRecord]
        do { pending = try context.store.inboundAwaitingStatus() } catch { throw .store(error) }
        for var record in pending { try await sendArrivalStatus(&record) }
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

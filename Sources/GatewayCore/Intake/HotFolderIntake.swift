import DurableFiles
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The hot folder (`<data-dir>/outbox/` by default): clerks' PCs drop documents there over the
/// office share, and this service moves each complete file into the store.
///
/// When a file counts as complete (docs/hot-folder.md): it was closed after writing, or renamed
/// in, as inotify reports, AND no process still has it open for writing (a read lease can be
/// taken), AND it did not change while being copied. Names starting with `.` and ending in
/// `.tmp`, `.part`, `.crdownload` or `~` are work in progress and never taken; `.json` files are
/// sidecars. The original is removed only after the store committed the copy; if the box dies in
/// between, the next scan recognises the file (same inode, size, time and name) and only removes it.
package final class HotFolderIntake: Service, Sendable {
    package struct Settings: Sendable {
        package var folder: String
        package var settleDelay: Duration
        package var diskRetryInterval: Duration
        package var parser: MetadataParser
        /// How long a document waits for the attachments its sidecar names before
        /// `NAME.error.txt` is written beside it (it goes on waiting: docs/hot-folder.md).
        package var attachmentWait: Duration
        /// How a sidecar's `"signed": true` is checked before the document is taken.
        package var signedClaims: SignedClaimCheck

        package init(folder: String, settleDelay: Duration, diskRetryInterval: Duration, parser: MetadataParser,
                     attachmentWait: Duration = .seconds(3600), signedClaims: SignedClaimCheck = .unconfigured) {
            self.folder = folder
            self.settleDelay = settleDelay
            self.diskRetryInterval = diskRetryInterval
            self.parser = parser
            self.attachmentWait = attachmentWait
            self.signedClaims = signedClaims
        }
    }

    /// What happened to one file; returned for tests and logged for people.
    package enum Outcome: Sendable, Equatable {
        case taken(DocumentID)
        /// Already stored by an earlier run (the box stopped before removing the original).
        case alreadyStored(DocumentID)
        case rejected(IntakeError.Code)
        /// Left in place for now; taken later by itself.
        case deferred(IntakeError.Code)
        /// Its sidecar names attachments not (all) in the folder yet: taken with them once they are.
        case waitingForAttachments([String])
        /// Named as an attachment by a sidecar in the folder: taken only with its document.
        case attachment
        case ignored
    }

    /// For `GET /v1/status`.
    package struct Snapshot: Sendable, Codable, Equatable {
        package var folder: String
        package var waitingFiles: Int
        package var pausedForSpace: Bool
        package var lastRefusal: String?

        enum CodingKeys: String, CodingKey {
            case folder, waitingFiles = "waiting_files", pausedForSpace = "paused_for_space", lastRefusal = "last_refusal"
        }
    }

    private struct Pending {
        var names = Set<[UInt8]>()
        var rescan = false
        var retryScheduled = false
        /// Documents with a wake-up set for the end of their wait for attachments.
        var attachmentDeadlines = Set<[UInt8]>()
    }

    let settings: Settings
    let store: DocumentStore
    let logger: Logger
    private let pending = Mutex(Pending())
    let state: Mutex<Snapshot>
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    package var rejectedFolder: String { settings.folder + "/rejected" }

    package init(settings: Settings, store: DocumentStore, logger: Logger) {
        self.settings = settings
        self.store = store
        self.logger = logger
        self.state = Mutex(Snapshot(folder: settings.folder, waitingFiles: 0, pausedForSpace: false, lastRefusal: nil))
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    package var snapshot: Snapshot { state.withLock { $0 } }

    package func run() async throws {
        try POSIXFile.makeDirectory(settings.folder, mode: 0o770)
        // Made through the folder's descriptor (never through a link a share user put there);
        // one that cannot be made only stops refused files from moving, so intake goes on.
        let folder = try POSIXFile.openDirectory(settings.folder)
        do { close(try openRejected(folder)) } catch {
            logger.error("rejected/ cannot be opened; refused files will stay where they are", metadata: ["error": "\(error)"])
        }
        close(folder)
        let watcher = try DirectoryWatcher(directory: settings.folder) { [self] event in
            switch event {
            case .completed(let name): enqueue(name)
            case .overflow: enqueueRescan()
            }
        }
        watcher.start()
        defer { watcher.stop() }
        enqueueRescan()  // after the watch is in place, so nothing slips between the two
        logger.info("hot folder watching", metadata: ["folder": "\(settings.folder)"])
        for await _ in wakeups.cancelOnGracefulShutdown() {
            // Let a sidecar copied just after its document arrive before the document is taken.
            try? await Task.sleep(for: settings.settleDelay)
            await processPending()
        }
    }

    func enqueue(_ name: [UInt8]) {
        pending.withLock { _ = $0.names.insert(name) }
        wake.yield()
    }

    func enqueueRescan() {
        pending.withLock { $0.rescan = true }
        wake.yield()
    }

    /// Takes every file waiting (or, after a rescan request, every file in the folder). A file a
    /// sidecar names as an attachment stands for its document: its arrival may complete it, so
    /// the whole folder is looked at again.
    package func processPending() async {
        let (names, rescan) = pending.withLock { pending in
            defer { pending.names = []; pending.rescan = false }
            return (pending.names, pending.rescan)
        }
        let view = folderView()
        var work = names
        if rescan || work.contains(where: view.isClaimed) { work.formUnion(view.names.values) }
        var waiting = 0
        var pausedForSpace = false
        var needsRetry = false  // a file still being written is retried by its close event instead
        for name in work.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let outcome = await process(name, view)
            if case .waitingForAttachments = outcome { waiting += 1 }
            if case .deferred(let code) = outcome {
                waiting += 1
                if code == .insufficientSpace || code == .diskFull { pausedForSpace = true }
                if code != .fileStillBeingWritten { needsRetry = true }
            }
        }
        state.withLock {
            $0.waitingFiles = waiting
            $0.pausedForSpace = pausedForSpace
        }
        if needsRetry { scheduleRetry() }
    }

    /// Only while intake is paused (disk full, store unavailable) does a timer run: there is no
    /// event for "space was freed", and an idle box with a healthy disk must not poll.
    private func scheduleRetry() {
        let first = pending.withLock { pending in
            defer { pending.retryScheduled = true }
            return !pending.retryScheduled
        }
        guard first else { return }
        let interval = settings.diskRetryInterval
        Task { [self] in
            try? await Task.sleep(for: interval)
            pending.withLock { $0.retryScheduled = false }
            enqueueRescan()
        }
    }

    /// One wake-up at the end of a document's wait for its attachments (to write its error
    /// file); their arrival wakes the folder anyway, so no timer runs for anything else.
    func scheduleAttachmentDeadline(_ name: [UInt8], after delay: Duration) {
        let first = pending.withLock { $0.attachmentDeadlines.insert(name).inserted }
        guard first else { return }
        Task { [self] in
            try? await Task.sleep(for: delay)
            pending.withLock { _ = $0.attachmentDeadlines.remove(name) }
            enqueue(name)
        }
    }

    // MARK: One file

    static func isCandidate(_ name: [UInt8]) -> Bool {
        guard let first = name.first, first != UInt8(ascii: ".") else { return false }
        let text = String(decoding: name, as: UTF8.self).lowercased()
        for suffix in [".tmp", ".part", ".crdownload", "~", ".json", ".error.txt"] where text.hasSuffix(suffix) { return false }
        return true
    }

    /// Sidecar names for a document, most specific first: `X.pdf.json`, then `X.json`.
    static func sidecarNames(for name: [UInt8]) -> [[UInt8]] {
        var names = [name + Array(".json".utf8)]
        if let dot = name.lastIndex(of: UInt8(ascii: ".")), dot > 0 {
            names.append(Array(name[..<dot]) + Array(".json".utf8))
        }
        return names
    }

    /// One file, with the folder as it is now (tests call this; a pass shares one view).
    package func process(_ name: [UInt8]) async -> Outcome {
        await process(name, folderView())
    }

    func process(_ name: [UInt8], _ view: FolderView) async -> Outcome {
        guard Self.isCandidate(name) else { return .ignored }
        if view.isClaimed(name) { return .attachment }
        let path = cPath(settings.folder, name)
        var info = stat()
        guard lstat(path, &info) == 0 else { return .ignored }  // gone: taken already
        if (info.st_mode & S_IFMT) == S_IFDIR { return .ignored }
        let displayName = String(decoding: name, as: UTF8.self)
        let sidecar = Self.sidecarNames(for: name).first { access(cPath(settings.folder, $0), F_OK) == 0 }
        // The attachments present that the sidecar names: they share the document's fate.
        let claimed = sidecar.map { view.files(claimedBy: $0) } ?? []
        func reject(_ error: IntakeError) -> Outcome { self.reject(name, sidecar, error, attachments: claimed) }

        guard (info.st_mode & S_IFMT) == S_IFREG else { return reject(.notARegularFile) }
        let fileName: String
        do { fileName = try FileNameRule.validate(name) } catch { return reject(error) }
        // O_NONBLOCK: a FIFO a share user swapped in after the lstat above must not block the
        // intake in open(); the type is checked again on what was opened (issue 16).
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return reject(.unreadableFile(String(cString: strerror(errno)))) }
        defer { close(fd) }
        guard fstat(fd, &info) == 0 else { return .deferred(.storeUnavailable) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return reject(.notARegularFile) }
        if Self.isOpenForWriting(fd) { return deferred(displayName, .fileStillBeingWritten) }

        let intakeKey = "hot_folder:\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec):\(fileName)"
        if let existing = try? store.document(intakeKey: intakeKey) {
            removeOriginals(name, sidecar, attachments: existing.metadata.attachmentNames.compactMap { view.names[$0] })
            logger.notice("hot folder file was already stored; original removed", metadata: ["file": "\(displayName)", "document.id": "\(existing.id)"])
            return .alreadyStored(existing.id)
        }
        if info.st_size == 0 { return reject(.emptyDocument) }
        if Int64(info.st_size) > store.limits.maximumDocumentSize {
            return reject(.documentTooLarge(limit: store.limits.maximumDocumentSize))
        }
        // The file's own faults first (they are what the clerk must fix first), then its metadata.
        var metadata: DocumentMetadata
        do { metadata = try readMetadata(sidecar) } catch { return reject(error) }
        if let clash = metadata.attachmentNames.first(where: { $0 == fileName }) {
            return reject(.invalidMetadata("tệp đính kèm \"\(clash)\" trùng tên với chính văn bản", "the attachment \"\(clash)\" is the document itself",
                                           field: "attachments"))
        }
        let missing = metadata.attachmentNames.filter { view.names[$0] == nil }
        if !missing.isEmpty { return waitForAttachments(name, fileName: fileName, missing: missing, arrived: info.st_ctim) }
        var attachments: [OpenAttachment] = []
        defer { for attachment in attachments { close(attachment.fd) } }
        for attachmentName in metadata.attachmentNames {
            switch openAttachment(attachmentName, raw: view.names[attachmentName]!) {
            case .opened(let opened): attachments.append(opened)
            case .refused(let error): return reject(error)
            case .busy: return deferred(displayName, .fileStillBeingWritten)
            }
        }
        var stagedAttachments: [StagedDocument] = []
        do {
            let staged = try store.beginDocument(expectedSize: Int64(info.st_size))
            for (index, attachment) in attachments.enumerated() {
                stagedAttachments.append(try store.beginAttachment(of: staged.id, position: index + 1, expectedSize: Int64(attachment.info.st_size)))
            }
            let before = info
            let copies = [(fd, before, staged)] + zip(attachments, stagedAttachments).map { ($0.fd, $0.info, $1) }
            let changed = try await store.ioPool.runIfActive { () throws -> Bool in
                var changed = false
                for (fd, before, staged) in copies {
                    try Self.copy(fd, into: staged)
                    var after = stat()
                    fstat(fd, &after)
                    changed = changed || after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec
                        || after.st_mtim.tv_nsec != before.st_mtim.tv_nsec || staged.size != Int64(before.st_size)
                }
                return changed
            }
            if changed || Self.isOpenForWriting(fd) || attachments.contains(where: { Self.isOpenForWriting($0.fd) }) {
                for staged in [staged] + stagedAttachments { staged.discard() }
                return deferred(displayName, .fileStillBeingWritten)
            }
            try await PDFIntakeCheck.check(staged, fileName: fileName, on: store.ioPool)
            for (attachment, stagedAttachment) in zip(attachments, stagedAttachments) {
                do throws(IntakeError) {
                    try await PDFIntakeCheck.check(stagedAttachment, fileName: attachment.fileName, on: store.ioPool)
                } catch {
                    for staged in [staged] + stagedAttachments { staged.discard() }
                    throw error.code.isTransient ? error : error.inAttachment(attachment.fileName)
                }
            }
            let claimNote: String
            do throws(IntakeError) {
                claimNote = try await settings.signedClaims.admit(
                    &metadata, document: .init(path: staged.path, name: fileName),
                    attachments: zip(attachments, stagedAttachments).map { .init(path: $1.path, name: $0.fileName) })
            } catch {
                for staged in [staged] + stagedAttachments { staged.discard() }
                throw error
            }
            let receipt = try await store.commit(staged, attachments: stagedAttachments, IntakeRequest(
                fileName: fileName, metadata: metadata, source: .hotFolder, intakeKey: intakeKey,
                cause: "taken from the hot folder as \"\(fileName)\""
                    + (attachments.isEmpty ? "" : " with \(attachments.count) attachment(s): " + attachments.map { "\"\($0.fileName)\"" }.joined(separator: ", "))
                    + claimNote))
            removeOriginals(name, sidecar, attachments: attachments.map(\.raw))
            logger.info("document received from hot folder", metadata: [
                "file": "\(fileName)", "document.id": "\(receipt.document.id)", "document.size": "\(receipt.document.size)",
                "attachments": "\(attachments.count)",
            ])
            return receipt.duplicate ? .alreadyStored(receipt.document.id) : .taken(receipt.document.id)
        } catch let error as IntakeError {
            for staged in stagedAttachments { staged.discard() }
            if error.code.isTransient { return deferred(displayName, error.code, error) }
            return reject(error)
        } catch {
            for staged in stagedAttachments { staged.discard() }
            logger.error("hot folder intake failed", metadata: ["file": "\(displayName)", "error": "\(error)"])
            return .deferred(.storeUnavailable)
        }
    }

    private func readMetadata(_ sidecar: [UInt8]?) throws(IntakeError) -> DocumentMetadata {
        guard let sidecar else { return try settings.parser.parse(nil).metadata }
        return try settings.parser.parse(try readSidecar(sidecar)).metadata
    }
}

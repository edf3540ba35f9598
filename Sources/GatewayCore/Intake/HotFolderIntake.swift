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

        package init(folder: String, settleDelay: Duration, diskRetryInterval: Duration, parser: MetadataParser) {
            self.folder = folder
            self.settleDelay = settleDelay
            self.diskRetryInterval = diskRetryInterval
            self.parser = parser
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
    }

    let settings: Settings
    let store: DocumentStore
    let logger: Logger
    private let pending = Mutex(Pending())
    private let state: Mutex<Snapshot>
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
        try POSIXFile.makeDirectory(rejectedFolder, mode: 0o770)
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

    /// Takes every file waiting (or, after a rescan request, every file in the folder).
    package func processPending() async {
        let (names, rescan) = pending.withLock { pending in
            defer { pending.names = []; pending.rescan = false }
            return (pending.names, pending.rescan)
        }
        var work = names
        if rescan {
            do { work.formUnion(try POSIXFile.listDirectory(settings.folder)) } catch {
                logger.error("cannot list the hot folder", metadata: ["error": "\(error)"])
            }
        }
        var waiting = 0
        var pausedForSpace = false
        var needsRetry = false  // a file still being written is retried by its close event instead
        for name in work.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let outcome = await process(name)
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

    package func process(_ name: [UInt8]) async -> Outcome {
        guard Self.isCandidate(name) else { return .ignored }
        let path = cPath(settings.folder, name)
        var info = stat()
        guard lstat(path, &info) == 0 else { return .ignored }  // gone: taken already
        if (info.st_mode & S_IFMT) == S_IFDIR { return .ignored }
        let displayName = String(decoding: name, as: UTF8.self)
        let sidecar = Self.sidecarNames(for: name).first { access(cPath(settings.folder, $0), F_OK) == 0 }

        guard (info.st_mode & S_IFMT) == S_IFREG else { return reject(name, sidecar, .notARegularFile) }
        let fileName: String
        do { fileName = try FileNameRule.validate(name) } catch { return reject(name, sidecar, error) }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return reject(name, sidecar, .unreadableFile(String(cString: strerror(errno)))) }
        defer { close(fd) }
        guard fstat(fd, &info) == 0 else { return .deferred(.storeUnavailable) }
        if Self.isOpenForWriting(fd) { return deferred(displayName, .fileStillBeingWritten) }

        let intakeKey = "hot_folder:\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec):\(fileName)"
        if let existing = try? store.document(intakeKey: intakeKey) {
            removeOriginals(name, sidecar)
            logger.notice("hot folder file was already stored; original removed", metadata: ["file": "\(displayName)", "document.id": "\(existing.id)"])
            return .alreadyStored(existing.id)
        }
        if info.st_size == 0 { return reject(name, sidecar, .emptyDocument) }
        if Int64(info.st_size) > store.limits.maximumDocumentSize {
            return reject(name, sidecar, .documentTooLarge(limit: store.limits.maximumDocumentSize))
        }
        // The file's own faults first (they are what the clerk must fix first), then its metadata.
        let metadata: DocumentMetadata
        do { metadata = try readMetadata(sidecar) } catch { return reject(name, sidecar, error) }
        do {
            let staged = try store.beginDocument(expectedSize: Int64(info.st_size))
            let before = info
            let changed = try await store.ioPool.runIfActive { () throws -> Bool in
                try Self.copy(fd, into: staged)
                var after = stat()
                fstat(fd, &after)
                return after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec
                    || after.st_mtim.tv_nsec != before.st_mtim.tv_nsec || staged.size != Int64(before.st_size)
            }
            if changed || Self.isOpenForWriting(fd) {
                staged.discard()
                return deferred(displayName, .fileStillBeingWritten)
            }
            try await PDFIntakeCheck.check(staged, fileName: fileName, on: store.ioPool)
            let receipt = try await store.commit(staged, IntakeRequest(
                fileName: fileName, metadata: metadata, source: .hotFolder, intakeKey: intakeKey,
                cause: "taken from the hot folder as \"\(fileName)\""))
            removeOriginals(name, sidecar)
            logger.info("document received from hot folder", metadata: [
                "file": "\(fileName)", "document.id": "\(receipt.document.id)", "document.size": "\(receipt.document.size)",
            ])
            return receipt.duplicate ? .alreadyStored(receipt.document.id) : .taken(receipt.document.id)
        } catch let error as IntakeError {
            if error.code.isTransient { return deferred(displayName, error.code, error) }
            return reject(name, sidecar, error)
        } catch {
            logger.error("hot folder intake failed", metadata: ["file": "\(displayName)", "error": "\(error)"])
            return .deferred(.storeUnavailable)
        }
    }

    private func readMetadata(_ sidecar: [UInt8]?) throws(IntakeError) -> DocumentMetadata {
        guard let sidecar else { return try settings.parser.parse(nil).metadata }
        let sidecarName = String(decoding: sidecar, as: UTF8.self)
        let fd = open(cPath(settings.folder, sidecar), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw .unreadableSidecar(sidecarName, "không mở được tệp (\(reason))", "cannot open it (\(reason))")
        }
        defer { close(fd) }
        let limit = 256 * 1024  // metadata is a few hundred bytes; anything this big is not a sidecar
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else {
            throw .unreadableSidecar(sidecarName, "lỗi khi đọc tệp", "read error")
        }
        guard count <= limit else {
            throw .unreadableSidecar(sidecarName, "tệp quá lớn (hơn 256 KB)", "the file is too large (over 256 KB)")
        }
        let json = Array(bytes[0..<count])
        guard String(validating: json, as: UTF8.self) != nil else {
            throw .unreadableSidecar(sidecarName, "tệp không phải văn bản UTF-8", "it is not UTF-8 text")
        }
        guard case .object = JSONValue.parse(json) else {
            throw .unreadableSidecar(sidecarName, "nội dung không phải là một đối tượng JSON hợp lệ", "its content is not a valid JSON object")
        }
        return try settings.parser.parse(json).metadata
    }

    static func copy(_ fd: Int32, into staged: StagedDocument) throws {
        var buffer = [UInt8](repeating: 0, count: 128 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                staged.discard()
                throw IntakeError.storeUnavailable("read error \(errno)")
            }
            if count == 0 { return }
            var failure: IntakeError?
            buffer.withUnsafeBytes { raw in
                do throws(IntakeError) { try staged.append(UnsafeRawBufferPointer(rebasing: raw[0..<count])) } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }

    /// True when some process has the file open for writing. Linux refuses a read lease
    /// (`F_SETLEASE`, F_RDLCK) with EAGAIN exactly then; the lease is dropped at once. Where
    /// leases are not permitted (not the file's owner, no CAP_LEASE) this answers false and the
    /// copy's before/after comparison is the remaining guard.
    static func isOpenForWriting(_ fd: Int32) -> Bool {
        let setLease: Int32 = 1024  // F_SETLEASE = F_LINUX_SPECIFIC_BASE + 0 (<fcntl.h>, _GNU_SOURCE)
        if fcntl(fd, setLease, Int32(F_RDLCK)) == 0 {
            _ = fcntl(fd, setLease, Int32(F_UNLCK))
            return false
        }
        return errno == EAGAIN
    }

    private func deferred(_ displayName: String, _ code: IntakeError.Code, _ error: IntakeError? = nil) -> Outcome {
        state.withLock { $0.lastRefusal = code.rawValue }
        logger.warning("hot folder file left in place for now", metadata: [
            "file": "\(displayName)", "code": "\(code.rawValue)", "reason": "\(error?.messageEn ?? "")",
        ])
        return .deferred(code)
    }

    /// Sidecar first: if the box dies between the two, the document left behind is recognised as
    /// already stored on the next scan; a sidecar left behind could lend its metadata to a later
    /// document of the same name.
    private func removeOriginals(_ name: [UInt8], _ sidecar: [UInt8]?) {
        if let sidecar { unlink(cPath(settings.folder, sidecar)) }
        unlink(cPath(settings.folder, name))
    }

    /// Moves a refused file (and its sidecar) to `rejected/` and writes `NAME.error.txt` beside it.
    private func reject(_ name: [UInt8], _ sidecar: [UInt8]?, _ error: IntakeError) -> Outcome {
        let displayName = String(decoding: name, as: UTF8.self)
        state.withLock { $0.lastRefusal = error.code.rawValue }
        logger.warning("hot folder file refused", metadata: ["file": "\(displayName)", "code": "\(error.code.rawValue)", "reason": "\(error.messageEn)"])
        guard let target = moveToRejected(name) else { return .rejected(error.code) }
        if let sidecar { _ = moveToRejected(sidecar, preferred: target + Array(".json".utf8)) }
        writeErrorFile(for: target, text: error.errorFileText(fileName: displayName))
        return .rejected(error.code)
    }

    /// Never replaces an earlier refused file of the same name: the new one becomes `NAME (2)`.
    private func moveToRejected(_ name: [UInt8], preferred: [UInt8]? = nil) -> [UInt8]? {
        let source = cPath(settings.folder, name)
        let base = preferred ?? name
        for attempt in 1...1000 {
            let target = attempt == 1 ? base : Self.numbered(base, attempt)
            if link(source, cPath(rejectedFolder, target)) == 0 {
                unlink(source)
                return target
            }
            if errno != EEXIST {
                // Links fail on some mounts: fall back to a rename that checked for a clash first.
                if access(cPath(rejectedFolder, target), F_OK) != 0, Glibc.rename(source, cPath(rejectedFolder, target)) == 0 { return target }
                logger.error("cannot move refused file aside", metadata: ["file": "\(String(decoding: name, as: UTF8.self))", "errno": "\(errno)"])
                return nil
            }
        }
        return nil
    }

    static func numbered(_ name: [UInt8], _ number: Int) -> [UInt8] {
        let suffix = Array(" (\(number))".utf8)
        if let dot = name.lastIndex(of: UInt8(ascii: ".")), dot > 0 {
            return Array(name[..<dot]) + suffix + Array(name[dot...])
        }
        return name + suffix
    }

    private func writeErrorFile(for target: [UInt8], text: String) {
        let finalPath = cPath(rejectedFolder, target + Array(".error.txt".utf8))
        let temporaryPath = cPath(rejectedFolder, Array(".".utf8) + target + Array(".error.tmp".utf8))
        let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o660)
        guard fd >= 0 else { return }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { raw in (try? POSIXFile.writeAll(fd, raw, path: "error file")) != nil }
        fsync(fd)
        close(fd)
        if written { Glibc.rename(temporaryPath, finalPath) } else { unlink(temporaryPath) }
    }
}

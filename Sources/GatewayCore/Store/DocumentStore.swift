import Dispatch
import DocumentModel
import DurableDatabase
import DurableFiles
import Foundation
import GRDB
import Logging
import NIOPosix
import Synchronization

/// Limits the store enforces on intake.
package struct StoreLimits: Sendable, Equatable {
    /// Largest document accepted, in bytes.
    package var maximumDocumentSize: Int64
    /// Intake refuses before writing when free space would drop below this.
    package var diskReserve: Int64

    package init(maximumDocumentSize: Int64 = 100_000_000, diskReserve: Int64 = 200_000_000) {
        self.maximumDocumentSize = maximumDocumentSize
        self.diskReserve = diskReserve
    }
}

/// What a submission asks the store to keep.
package struct IntakeRequest: Sendable {
    package var fileName: String
    package var metadata: DocumentMetadata
    package var source: IntakeSource
    package var intakeKey: String?
    /// Words for the audit trail, e.g. "hot folder file 'QD-12.pdf'".
    package var cause: String

    package init(fileName: String, metadata: DocumentMetadata, source: IntakeSource, intakeKey: String?, cause: String) {
        self.fileName = fileName
        self.metadata = metadata
        self.source = source
        self.intakeKey = intakeKey
        self.cause = cause
    }
}

/// The answer to a submission, given only once the document is durable.
package struct IntakeReceipt: Sendable {
    package let document: DocumentRecord
    /// True when the submission's key matched a document already stored (a retry).
    package let duplicate: Bool
}

/// The durable document store: the truth about every document and its lifecycle.
///
/// Content lives in files, metadata and states in SQLite (WAL, `synchronous=FULL`). A document
/// is acknowledged only after: its content file is fsynced, renamed into `objects/`, the
/// directory fsynced, and its row committed. Commits are grouped: submissions that arrive while
/// a commit is on its way share the next one (one directory fsync, one WAL fsync for all), which
/// keeps every guarantee and multiplies throughput on slow flash.
package final class DocumentStore: Sendable {
    package let layout: StoreLayout
    package let limits: StoreLimits
    let database: DatabasePool
    let logger: Logger
    let ioPool: NIOThreadPool
    private let idGenerator = Mutex(DocumentIDGenerator())
    private let committer: GroupCommitter
    /// Notified after every commit and relay state change: the relay's wake-up (never a timer).
    package let changes = ChangeSignal()

    /// Opens (creating if needed) the store under `layout`. The caller holds the data
    /// directory's lock (`StoreLock`): one process owns a store at a time.
    package init(layout: StoreLayout, limits: StoreLimits, logger: Logger, ioPool: NIOThreadPool) throws {
        self.layout = layout
        self.limits = limits
        self.logger = logger
        self.ioPool = ioPool
        for directory in [layout.dataDirectory, layout.temporaryDirectory, layout.objectsDirectory, layout.orphansDirectory,
                          layout.packagesDirectory, layout.inboxDirectory] {
            try POSIXFile.makeDirectory(directory)
        }
        var configuration = Configuration()
        configuration.label = "gateway.store"
        configuration.busyMode = .timeout(10)
        // Readers are the API's list/show calls: two are plenty on a commune's box, and each
        // connection keeps its own page cache.
        configuration.maximumReaderCount = 2
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA cache_size = -1024")  // 1 MiB per connection (default 2 MiB)
        }
        // A commit on stable storage before it returns (synchronous = FULL on the writer): those
        // are documents we acknowledged.
        database = try DurableDatabase.openPool(path: layout.databasePath, configuration: configuration)
        try StoreSchema.migrator.migrate(database)
        committer = GroupCommitter(layout: layout, database: database, logger: logger, changes: changes)
    }

    // MARK: Intake

    /// Starts a new document's content. Refuses before writing anything when the disk is below
    /// its reserve or the announced size is over the limit.
    package func beginDocument(expectedSize: Int64?) throws(IntakeError) -> StagedDocument {
        try checkSpace(expectedSize: expectedSize)
        let id = newDocumentID()
        do {
            return try StagedDocument(id: id, path: layout.temporaryPath(id), sizeLimit: limits.maximumDocumentSize)
        } catch {
            throw error.isNoSpace ? .diskFull : .storeUnavailable(error.description)
        }
    }

    /// Starts the content of attachment `position` (1-based, its place in the metadata's list) of
    /// the document staged as `document`, with the same limits; committed with it (`commit`), which
    /// names it after the document it is committed with (`document` only names the staged file).
    package func beginAttachment(of document: DocumentID, position: Int, expectedSize: Int64?) throws(IntakeError) -> StagedDocument {
        try checkSpace(expectedSize: expectedSize)
        let path = layout.temporaryDirectory + "/" + StoreLayout.attachmentName(document, position: position, version: 0) + ".part"
        do {
            return try StagedDocument(id: document, path: path, sizeLimit: limits.maximumDocumentSize)
        } catch {
            throw error.isNoSpace ? .diskFull : .storeUnavailable(error.description)
        }
    }

    private func checkSpace(expectedSize: Int64?) throws(IntakeError) {
        if let expectedSize, expectedSize > limits.maximumDocumentSize {
            throw .documentTooLarge(limit: limits.maximumDocumentSize)
        }
        let free: Int64
        do { free = try POSIXFile.freeBytes(at: layout.temporaryDirectory) } catch {
            throw .storeUnavailable(error.description)
        }
        if free - (expectedSize ?? 0) < limits.diskReserve {
            throw .insufficientSpace(free: free, reserve: limits.diskReserve)
        }
    }

    /// Makes a staged document durable and answers only then. Idempotent by `intakeKey`.
    ///
    /// `attachments` are the contents of the files `request.metadata.attachments` names, in that
    /// order (`beginAttachment`): they are renamed into `objects/` with the document, under the
    /// same writer lock and in the same transaction, so a document is never stored without them.
    package func commit(_ staged: StagedDocument, attachments: [StagedDocument] = [], _ request: IntakeRequest) async throws(IntakeError) -> IntakeReceipt {
        let everything = [staged] + attachments
        func discardAll() { for item in everything { item.discard() } }
        guard attachments.count == request.metadata.attachmentNames.count else {
            discardAll()
            throw .storeUnavailable("\(attachments.count) attachment files for \(request.metadata.attachmentNames.count) names")
        }
        let contents: [FinishedContent]
        do {
            contents = try await ioPool.runIfActive { try everything.map { try $0.finish() } }
        } catch let error as IntakeError {
            discardAll()
            throw error
        } catch {
            discardAll()
            throw .storeUnavailable("I/O pool stopped")
        }
        let result: Result<IntakeReceipt, IntakeError> = await withCheckedContinuation { continuation in
            committer.submit(.init(content: contents[0], attachments: Array(contents.dropFirst()), request: request, receivedAt: Date(),
                                   continuation: continuation))
        }
        return try result.get()
    }

    /// The document an earlier submission with this key produced, if any (cheap pre-check so a
    /// re-scanned hot-folder file is not copied again; `commit` re-checks authoritatively).
    package func document(intakeKey: String) throws -> DocumentRecord? {
        try database.read { db in
            try DocumentRecord.filter(DocumentRecord.Columns.intakeKey == intakeKey).fetchOne(db)
        }
    }

    func newDocumentID() -> DocumentID {
        let now = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        return idGenerator.withLock { $0.next(unixMilliseconds: now, random: UInt64.random(in: .min ... .max)) }
    }

    // MARK: Reading

    package func document(_ id: DocumentID) throws -> DocumentRecord? {
        try database.read { db in try DocumentRecord.fetchOne(db, key: id) }
    }

    package func history(_ id: DocumentID) throws -> [TransitionRecord] {
        try database.read { db in
            try TransitionRecord.filter(TransitionRecord.Columns.documentId == id)
                .order(TransitionRecord.Columns.seq).fetchAll(db)
        }
    }

    /// Newest first; `before` pages through older ones.
    package func list(states: [DocumentState] = [], limit: Int = 100, before: DocumentID? = nil) throws -> [DocumentRecord] {
        try database.read { db in
            var query = DocumentRecord.all()
            if !states.isEmpty { query = query.filter(states.contains(DocumentRecord.Columns.state)) }
            if let before { query = query.filter(DocumentRecord.Columns.id < before) }
            return try query.order(DocumentRecord.Columns.id.desc).limit(limit).fetchAll(db)
        }
    }

    package func countsByState() throws -> [DocumentState: Int] {
        try database.read { db in
            var counts: [DocumentState: Int] = [:]
            let rows = try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM document GROUP BY state")
            for row in rows {
                if let state = DocumentState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    // MARK: Lifecycle

    /// Why a main document that is not a PDF waits (its state reason until it is replaced).
    static let notAPDFReason = "văn bản chính không phải PDF: hãy chuyển sang PDF rồi thay tệp (gatewayd replace) / the main document is not a PDF: convert it and replace the file (gatewayd replace)"

    /// Moves a document to `next`, recording the cause in the audit trail. Refuses transitions
    /// the lifecycle does not allow.
    @discardableResult
    package func transition(_ id: DocumentID, to next: DocumentState, cause: String, reason: String? = nil) throws -> DocumentRecord {
        let moved = try database.write { db in
            guard var record = try DocumentRecord.fetchOne(db, key: id) else {
                throw DatabaseError(resultCode: .SQLITE_NOTFOUND, message: "no document \(id)")
            }
            try Self.move(&record, to: next, cause: cause, reason: reason, at: Date(), in: db)
            return record
        }
        changes.notify()
        return moved
    }

    /// The one writer of state changes: refuses what the lifecycle does not allow, appends the
    /// audit line and sets the document's state columns, in the caller's transaction.
    ///
    /// Column by column with cached statements: the relay moves a document twice per delivery,
    /// and decoding and re-encoding the whole record (its metadata JSON) through Codable was the
    /// largest part of its CPU per document (docs/PERFORMANCE.md, "Relay").
    static func move(_ id: DocumentID, from current: DocumentState, to next: DocumentState, cause: String, reason: String?,
                     at now: Date, in db: Database) throws {
        guard current.canMove(to: next) else { throw IllegalTransition(from: current, to: next) }
        try appendAudit(id, from: current.rawValue, to: next.rawValue, at: now, cause: cause, in: db)
        try db.cachedStatement(sql: "UPDATE document SET state = ?, state_reason = ?, updated_at = ? WHERE id = ?")
            .execute(arguments: [next.rawValue, reason, now, id])
    }

    /// `move` for a record in hand, which is updated to match the row.
    static func move(_ record: inout DocumentRecord, to next: DocumentState, cause: String, reason: String?, at now: Date, in db: Database) throws {
        try move(record.id, from: record.state, to: next, cause: cause, reason: reason, at: now, in: db)
        record.state = next
        record.stateReason = reason
        record.updatedAt = now
    }
}

/// Serialises commits on one thread and groups whatever arrives meanwhile into one transaction.
///
/// Why a thread and not an actor: the work is blocking (rename, fsync, SQLite's fsync) and must
/// not hold one of the few cooperative threads; and a batch forms naturally from what queued up
/// while the previous one was on its way, with no timer and no added latency when idle.
final class GroupCommitter: Sendable {
    struct Request: Sendable {
        let content: FinishedContent
        /// The attachments' contents, in the order of `request.metadata.attachments`.
        let attachments: [FinishedContent]
        let request: IntakeRequest
        let receivedAt: Date
        let continuation: CheckedContinuation<Result<IntakeReceipt, IntakeError>, Never>

        func removeTemporaryFiles() {
            for content in [content] + attachments { POSIXFile.unlinkIfPresent(content.temporaryPath) }
        }
    }

    private struct State {
        var pending: [Request] = []
        var draining = false
    }

    private let state = Mutex(State())
    private let thread = DispatchQueue(label: "gateway.store.commit")
    private let layout: StoreLayout
    private let database: DatabasePool
    private let logger: Logger
    private let changes: ChangeSignal

    init(layout: StoreLayout, database: DatabasePool, logger: Logger, changes: ChangeSignal) {
        self.layout = layout
        self.database = database
        self.logger = logger
        self.changes = changes
    }

    func submit(_ request: Request) {
        let start = state.withLock { state in
            state.pending.append(request)
            if state.draining { return false }
            state.draining = true
            return true
        }
        if start { thread.async { self.drain() } }
    }

    private func drain() {
        while true {
            let batch: [Request] = state.withLock { state in
                let batch = state.pending
                state.pending = []
                if batch.isEmpty { state.draining = false }
                return batch
            }
            if batch.isEmpty { return }
            commit(batch)
        }
    }

    private func commit(_ batch: [Request]) {
        var outcomes = [Result<IntakeReceipt, IntakeError>?](repeating: nil, count: batch.count)
        var moved: [String] = []  // content renamed into objects/ during this batch
        do {
            try database.write { db in
                moved = []
                outcomes = [Result<IntakeReceipt, IntakeError>?](repeating: nil, count: batch.count)
                var accepted: [(Int, DocumentRecord)] = []
                for (index, item) in batch.enumerated() {
                    if let key = item.request.intakeKey,
                       let existing = try DocumentRecord.filter(DocumentRecord.Columns.intakeKey == key).fetchOne(db)
                        ?? accepted.first(where: { $0.1.intakeKey == key })?.1 {
                        outcomes[index] = existing.sha256 == item.content.sha256
                            ? .success(IntakeReceipt(document: existing, duplicate: true))
                            : .failure(.idempotencyConflict)
                        continue
                    }
                    let target = layout.objectPath(item.content.id, version: 0)
                    try POSIXFile.rename(item.content.temporaryPath, target)  // ids are unique: nothing to replace
                    moved.append(target)
                    for (index, attachment) in item.attachments.enumerated() {
                        let target = layout.attachmentPath(item.content.id, position: index + 1, version: 0)
                        try POSIXFile.rename(attachment.temporaryPath, target)
                        moved.append(target)
                    }
                    let record = DocumentRecord(
                        id: item.content.id, fileName: item.request.fileName, size: item.content.size,
                        sha256: item.content.sha256, state: .received, source: item.request.source,
                        intakeKey: item.request.intakeKey, metadata: item.request.metadata,
                        priority: item.request.metadata.priority.rawValue, receivedAt: item.receivedAt,
                        updatedAt: item.receivedAt, stateReason: nil)
                    accepted.append((index, record))
                }
                if !moved.isEmpty { try POSIXFile.fsyncDirectory(layout.objectsDirectory) }
                for (index, var record) in accepted {
                    try record.insert(db)
                    for (position, (name, content)) in zip(record.metadata.attachmentNames, batch[index].attachments).enumerated() {
                        try AttachmentRecord(documentId: record.id, position: position + 1, fileName: name, size: content.size,
                                             sha256: content.sha256).insert(db)
                    }
                    try DocumentStore.appendAudit(record.id, from: nil, to: DocumentState.received.rawValue, at: record.receivedAt,
                                                  cause: batch[index].request.cause, in: db)
                    let next = DocumentState.afterIntake(record.metadata)
                    let cause = switch next {
                    case .signed: "arrived already signed"
                    case .awaitingSeal: "waiting for the organization's signature and number (văn thư)"
                    default: "waiting for the leader's signature"
                    }
                    // Not a PDF: it cannot be signed until the clerk replaces it with one (Decree 30/2020
                    // asks for PDF); queue list and show say so from the start, not at signing time.
                    let reason = next != .signed && !batch[index].content.isPDF ? DocumentStore.notAPDFReason : nil
                    try DocumentStore.move(&record, to: next, cause: cause, reason: reason, at: record.receivedAt, in: db)
                    outcomes[index] = .success(IntakeReceipt(document: record, duplicate: false))
                }
            }
        } catch {
            // Nothing of this batch is committed: its content must not stay behind as orphans.
            for path in moved { POSIXFile.unlinkIfPresent(path) }
            let refusal = Self.refusal(for: error, layout: layout)
            logger.error("store commit failed", metadata: ["error": "\(error)", "batch": "\(batch.count)"])
            for item in batch { item.continuation.resume(returning: .failure(refusal)) }
            for item in batch { item.removeTemporaryFiles() }
            return
        }
        for (item, outcome) in zip(batch, outcomes) {
            if case .success(let receipt) = outcome, receipt.duplicate { item.removeTemporaryFiles() }
            if case .failure = outcome { item.removeTemporaryFiles() }
            item.continuation.resume(returning: outcome ?? .failure(.storeUnavailable("commit produced no outcome")))
        }
        changes.notify()
    }

    static func refusal(for error: any Error, layout: StoreLayout) -> IntakeError {
        if let error = error as? SystemCallError, error.isNoSpace { return .diskFull }
        if let error = error as? DatabaseError {
            if error.resultCode == .SQLITE_FULL { return .diskFull }
            if error.resultCode == .SQLITE_IOERR, let free = try? POSIXFile.freeBytes(at: layout.dataDirectory), free < 1_048_576 {
                return .diskFull
            }
        }
        return .storeUnavailable("\(error)")
    }
}

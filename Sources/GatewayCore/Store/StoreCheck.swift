import DurableFiles
import Foundation
import GRDB

/// What startup recovery, the deferred reconcile or `gatewayd store check` found and did.
package struct StoreCheckReport: Sendable, Codable, Equatable {
    package struct Quarantine: Sendable, Codable, Equatable {
        package var id: String
        package var reason: String
    }

    package var integrity: String = "not checked"
    /// Rows read: at startup only those in a transient state, in a reconcile every one.
    package var documentsChecked = 0
    package var contentVerified = false
    package var temporaryFilesRemoved: [String] = []
    package var orphansMovedAside: [String] = []
    package var quarantined: [Quarantine] = []
    package var resumed: [String] = []
    /// The audit chain walked by `check` (nil elsewhere, and from a daemon that predates it).
    package var auditChain: AuditChainStatus?

    /// Nothing needed repair, the database is sound and its audit chain unbroken.
    package var isClean: Bool {
        (integrity == "ok" || integrity == "not checked") && orphansMovedAside.isEmpty && quarantined.isEmpty && auditChain?.broken == nil
    }

    enum CodingKeys: String, CodingKey {
        case integrity, documentsChecked = "documents_checked", contentVerified = "content_verified"
        case temporaryFilesRemoved = "temporary_files_removed", orphansMovedAside = "orphans_moved_aside"
        case quarantined, resumed, auditChain = "audit_chain"
    }

    mutating func add(_ other: StoreCheckReport) {
        documentsChecked += other.documentsChecked
        orphansMovedAside += other.orphansMovedAside
        quarantined += other.quarantined
    }
}

extension DocumentStore {
    /// Startup recovery, run before any door opens. Proportional to the work left, not to the
    /// history: it empties `store/tmp/` and reads only the documents in a transient state
    /// (through index `document_state`), checks their content and puts them back where their
    /// stage picks them up again. The reconcile of every row against its file is `reconcile`,
    /// run after READY (`StoreReconciler`) and by `gatewayd store check`.
    package func recover() throws -> StoreCheckReport {
        var report = StoreCheckReport()
        report.temporaryFilesRemoved = try removeTemporaryFiles()
        let (found, resumed) = try database.write { db in try resumeTransientStates(db) }
        report.add(found)
        report.resumed = resumed
        return report
    }

    /// The full consistency check: SQLite's integrity check, the audit chain, every row against
    /// its file (size and SHA-256), every file against its row. Repairs what is safe (quarantine
    /// with the reason, orphans moved aside, never deleted) and reports the rest.
    ///
    /// `ownsStore` is true when the caller holds the data directory's lock with no daemon
    /// running: only then are leftover temporary files certainly garbage.
    package func check(ownsStore: Bool) throws -> StoreCheckReport {
        var report = StoreCheckReport()
        if ownsStore { report.temporaryFilesRemoved = try removeTemporaryFiles() }
        report.integrity = try database.read { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
        }
        // Walked before the repairs below append their own lines: a break is reported where it is.
        report.auditChain = try verifyAuditChain()
        report.add(try reconcile())
        // Hashing reads every byte: done outside the lock so intake goes on meanwhile.
        let rows = try database.read { db in
            try DocumentRecord.filter(DocumentRecord.Columns.state != DocumentState.quarantined.rawValue).fetchAll(db)
        }
        let attachments = try database.read { db in
            Dictionary(grouping: try AttachmentRecord.order(AttachmentRecord.Columns.position).fetchAll(db), by: \.documentId)
        }
        var mismatched: [(DocumentID, String)] = []
        for row in rows {
            if let actual = try? POSIXFile.sha256(ofFile: layout.objectPath(row.id, version: row.version)).sha256, actual != row.sha256 {
                mismatched.append((row.id, "content hash differs from the one recorded at intake (recorded \(row.sha256), found \(actual))"))
            } else if let problem = attachmentHashProblem(attachments[row.id] ?? []) {
                mismatched.append((row.id, problem))
            }
        }
        let newlyQuarantined = try database.write { db in
            var entries: [StoreCheckReport.Quarantine] = []
            for (id, reason) in mismatched {
                guard var record = try DocumentRecord.fetchOne(db, key: id), record.state != .quarantined else { continue }
                try Self.move(&record, to: .quarantined, cause: "store check: \(reason)", reason: reason, at: Date(), in: db)
                entries.append(.init(id: id.description, reason: reason))
            }
            return entries
        }
        report.quarantined += newlyQuarantined
        report.contentVerified = true
        return report
    }

    /// Every row against its file and every file in `objects/` against its row: rows whose
    /// content is missing or of the wrong size are quarantined, content without a row is moved to
    /// `orphans/`. In batches of `batchSize`, each under the writer lock for a moment only, so
    /// intake and the relay go on between them; `shouldContinue` is asked before each batch.
    ///
    /// The lock makes each verdict sound: a commit renames its content into `objects/` and
    /// inserts its row in one write, so under the lock a file without a row really is an orphan.
    func reconcile(batchSize: Int = 256, shouldContinue: () -> Bool = { true }) throws -> StoreCheckReport {
        var report = StoreCheckReport()
        var after = ""
        while shouldContinue() {
            let (batch, last) = try database.write { db in try reconcileRows(after: after, limit: batchSize, db) }
            report.add(batch)
            guard let last else { break }
            after = last
        }
        let objects = try DirectoryReader(layout.objectsDirectory)
        while shouldContinue() {
            let names = objects.next(upTo: batchSize)
            if names.isEmpty { break }
            report.orphansMovedAside += try database.write { db in try setAsideOrphans(names, db) }
        }
        return report
    }

    private func removeTemporaryFiles() throws -> [String] {
        var removed: [String] = []
        for name in try POSIXFile.listDirectory(layout.temporaryDirectory) {
            unlink(cPath(layout.temporaryDirectory, name))
            removed.append(String(decoding: name, as: UTF8.self))
        }
        if !removed.isEmpty { try POSIXFile.fsyncDirectory(layout.temporaryDirectory) }
        return removed
    }

    /// Up to `limit` rows after id `after`, in id order, each against its file. Reads only the
    /// three columns it needs and loads a whole record only for a document it must quarantine.
    private func reconcileRows(after: String, limit: Int, _ db: Database) throws -> (StoreCheckReport, last: String?) {
        var report = StoreCheckReport()
        var last: String?
        let rows = try Row.fetchAll(db, sql: "SELECT id, size, state, version FROM document WHERE id > ? ORDER BY id LIMIT ?",
                                    arguments: [after, limit])
        let attachments = try Self.attachments(of: rows.compactMap { DocumentID($0["id"] as String) }, db)
        for row in rows {
            last = row["id"]
            report.documentsChecked += 1
            guard let id = DocumentID(row["id"] as String), (row["state"] as String) != DocumentState.quarantined.rawValue,
                  let reason = contentProblem(id, version: row["version"], size: row["size"]) ?? attachmentProblem(attachments[id] ?? [])
            else { continue }
            if var record = try DocumentRecord.fetchOne(db, key: id) {
                try Self.move(&record, to: .quarantined, cause: "store check: \(reason)", reason: reason, at: Date(), in: db)
                report.quarantined.append(.init(id: id.description, reason: reason))
            }
        }
        return (report, last)
    }

    /// Why a document's content cannot be trusted without hashing it, or nil.
    private func contentProblem(_ id: DocumentID, version: Int, size: Int64) -> String? {
        Self.contentProblem(layout, id, version: version, size: size)
    }

    /// The same on a layout alone: `gatewayd doctor` reads a store it does not open for writing.
    static func contentProblem(_ layout: StoreLayout, _ id: DocumentID, version: Int, size: Int64) -> String? {
        var info = stat()
        let path = layout.objectPath(id, version: version)
        guard stat(path, &info) == 0 else { return "content file is missing (\(path))" }
        guard Int64(info.st_size) == size else {
            return "content file size differs from the one recorded at intake (recorded \(size), found \(Int64(info.st_size)))"
        }
        return nil
    }

    /// Moves to `orphans/` those of `names` (files in `objects/`) that have no row, and versions
    /// newer than their row's (a signature whose commit did not happen). Earlier versions are
    /// the document's history and stay. The same for attachments (`<id>.a<P>…`): a file without
    /// its attachment row, a version newer than the row's, a `.p7s` the row does not name.
    private func setAsideOrphans(_ names: [[UInt8]], _ db: Database) throws -> [String] {
        let parsed = names.compactMap { StoreLayout.parseObjectName(String(decoding: $0, as: UTF8.self)) }
        let ids = Array(Set(parsed.map(\.id.description)))
        var versions: [String: Int] = [:]
        var attachments: [String: (version: Int, signatureFile: String?)] = [:]  // by "<id>.a<P>"
        for chunk in stride(from: 0, to: ids.count, by: 500).map({ ids[$0..<min($0 + 500, ids.count)] }) {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            for row in try Row.fetchAll(db, sql: "SELECT id, version FROM document WHERE id IN (\(marks))",
                                        arguments: StatementArguments(Array(chunk))) {
                versions[row["id"]] = row["version"]
            }
            if parsed.contains(where: { $0.attachment != nil }) {
                for row in try Row.fetchAll(db, sql: "SELECT document_id, position, version, signature_file FROM attachment WHERE document_id IN (\(marks))",
                                            arguments: StatementArguments(Array(chunk))) {
                    attachments["\(row["document_id"] as String).a\(row["position"] as Int)"] = (row["version"], row["signature_file"])
                }
            }
        }
        func isKept(_ object: StoreLayout.ObjectName, _ name: String) -> Bool {
            guard let position = object.attachment else {
                return versions[object.id.description].map { object.version <= $0 } ?? false
            }
            guard let row = attachments["\(object.id).a\(position)"] else { return false }
            return object.isDetachedSignature ? row.signatureFile == name : object.version <= row.version
        }
        var moved: [String] = []
        for name in names {
            let text = String(decoding: name, as: UTF8.self)
            if let object = StoreLayout.parseObjectName(text), isKept(object, text) { continue }
            if try setAside(name) { moved.append(text) }
        }
        if !moved.isEmpty {
            try POSIXFile.fsyncDirectory(layout.orphansDirectory)
            try POSIXFile.fsyncDirectory(layout.objectsDirectory)
        }
        return moved
    }

    /// False when the file is gone already (a failed commit removed its content meanwhile).
    private func setAside(_ name: [UInt8]) throws -> Bool {
        let source = cPath(layout.objectsDirectory, name)
        for attempt in 1...1000 {
            let target = attempt == 1 ? name : name + Array(".\(attempt)".utf8)
            if link(source, cPath(layout.orphansDirectory, target)) == 0 {
                unlink(source)
                return true
            }
            if errno == ENOENT, access(source, F_OK) != 0 { return false }
            if errno != EEXIST { throw SystemCallError(call: "link", path: String(decoding: name, as: UTF8.self), errno: errno) }
        }
        throw SystemCallError(call: "link", path: String(decoding: name, as: UTF8.self), errno: EEXIST)
    }

    /// The documents a crash left halfway (`received`, `sending`), found through index
    /// `document_state`: each checked against its file like a reconcile would, then resumed.
    private func resumeTransientStates(_ db: Database) throws -> (report: StoreCheckReport, resumed: [String]) {
        var report = StoreCheckReport()
        var resumed: [String] = []
        let now = Date()
        for var record in try DocumentRecord.filter(Self.transientStates.contains(DocumentRecord.Columns.state)).fetchAll(db) {
            report.documentsChecked += 1
            if let reason = try contentProblem(record.id, version: record.version, size: record.size)
                ?? attachmentProblem(Self.attachments(record.id, db)) {
                try Self.move(&record, to: .quarantined, cause: "store check: \(reason)", reason: reason, at: now, in: db)
                report.quarantined.append(.init(id: record.id.description, reason: reason))
                continue
            }
            switch record.state {
            case .received:
                try Self.move(&record, to: .afterIntake(record.metadata), cause: "intake finished after a restart", reason: nil, at: now, in: db)
            case .sending:
                try Self.move(&record, to: .queued, cause: "sending was interrupted by a restart; it will be sent again", reason: nil, at: now, in: db)
            default:
                continue
            }
            resumed.append(record.id.description)
        }
        return (report, resumed)
    }

    static let transientStates = DocumentState.allCases.filter(\.isTransient).map(\.rawValue)
}

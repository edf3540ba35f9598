import Crypto
import Foundation
import GRDB

/// What startup recovery or `gatewayd store check` found and did.
public struct StoreCheckReport: Sendable, Codable, Equatable {
    public struct Quarantine: Sendable, Codable, Equatable {
        public var id: String
        public var reason: String
    }

    public var integrity: String = "not checked"
    public var documentsChecked = 0
    public var contentVerified = false
    public var temporaryFilesRemoved: [String] = []
    public var orphansMovedAside: [String] = []
    public var quarantined: [Quarantine] = []
    public var resumed: [String] = []

    /// Nothing needed repair and the database is sound.
    public var isClean: Bool {
        (integrity == "ok" || integrity == "not checked") && orphansMovedAside.isEmpty && quarantined.isEmpty
    }

    enum CodingKeys: String, CodingKey {
        case integrity, documentsChecked = "documents_checked", contentVerified = "content_verified"
        case temporaryFilesRemoved = "temporary_files_removed", orphansMovedAside = "orphans_moved_aside"
        case quarantined, resumed
    }
}

extension DocumentStore {
    /// Startup recovery, run before any intake: removes unfinished temporary files, sets aside
    /// content that has no row, quarantines rows whose content is gone, and puts documents left
    /// in a transient state back where their stage will pick them up again. Cheap (no hashing).
    public func recover() throws -> StoreCheckReport {
        var report = StoreCheckReport()
        report.temporaryFilesRemoved = try removeTemporaryFiles()
        let (reconciled, resumed) = try database.write { db in
            (try reconcileFiles(db), try resumeTransientStates(db))
        }
        report.documentsChecked = reconciled.documentsChecked
        report.orphansMovedAside = reconciled.orphansMovedAside
        report.quarantined = reconciled.quarantined
        report.resumed = resumed
        return report
    }

    /// The full consistency check: SQLite's integrity check, every row against its file (size and
    /// SHA-256), every file against its row. Repairs what is safe (quarantine with the reason,
    /// orphans moved aside, never deleted) and reports the rest.
    ///
    /// `ownsStore` is true when the caller holds the data directory's lock with no daemon
    /// running: only then are leftover temporary files certainly garbage.
    public func check(ownsStore: Bool) throws -> StoreCheckReport {
        var report = StoreCheckReport()
        if ownsStore { report.temporaryFilesRemoved = try removeTemporaryFiles() }
        report.integrity = try database.read { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
        }
        // Rows against files under the writer lock: no commit can be halfway (its rename and its
        // insert happen inside one write), so a file without a row really is an orphan.
        let reconciled = try database.write { db in try reconcileFiles(db) }
        report.documentsChecked = reconciled.documentsChecked
        report.orphansMovedAside = reconciled.orphansMovedAside
        report.quarantined = reconciled.quarantined
        // Hashing reads every byte: done outside the lock so intake goes on meanwhile.
        let rows = try database.read { db in
            try DocumentRecord.filter(DocumentRecord.Columns.state != DocumentState.quarantined.rawValue).fetchAll(db)
        }
        var mismatched: [(DocumentID, String)] = []
        for row in rows {
            if let actual = try? Self.sha256(ofFile: layout.objectPath(row.id)), actual != row.sha256 {
                mismatched.append((row.id, "content hash differs from the one recorded at intake (recorded \(row.sha256), found \(actual))"))
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

    private func removeTemporaryFiles() throws -> [String] {
        var removed: [String] = []
        for name in try POSIXFile.listDirectory(layout.temporaryDirectory) {
            unlink(cPath(layout.temporaryDirectory, name))
            removed.append(String(decoding: name, as: UTF8.self))
        }
        if !removed.isEmpty { try POSIXFile.fsyncDirectory(layout.temporaryDirectory) }
        return removed
    }

    /// Rows without content → quarantined; content without a row → moved to `orphans/`.
    ///
    /// Runs at every start, so it reads only the three columns it needs (no metadata JSON to
    /// decode) and loads a whole record only for a document it must quarantine.
    private func reconcileFiles(_ db: Database) throws -> StoreCheckReport {
        var report = StoreCheckReport()
        var rows: [DocumentID: (size: Int64, quarantined: Bool)] = [:]
        let cursor = try Row.fetchCursor(db, sql: "SELECT id, size, state FROM document")
        while let row = try cursor.next() {
            guard let id = DocumentID(row["id"] as String) else { continue }
            rows[id] = (row["size"], (row["state"] as String) == DocumentState.quarantined.rawValue)
        }
        report.documentsChecked = rows.count
        var present = Set<DocumentID>()
        var movedAny = false
        for name in try POSIXFile.listDirectory(layout.objectsDirectory) {
            let text = String(decoding: name, as: UTF8.self)
            if let id = DocumentID(text), rows[id] != nil {
                present.insert(id)
                continue
            }
            try setAside(name)
            report.orphansMovedAside.append(text)
            movedAny = true
        }
        if movedAny {
            try POSIXFile.fsyncDirectory(layout.orphansDirectory)
            try POSIXFile.fsyncDirectory(layout.objectsDirectory)
        }
        let now = Date()
        for (id, row) in rows where !row.quarantined {
            var reason: String?
            if !present.contains(id) {
                reason = "content file is missing (\(layout.objectPath(id)))"
            } else {
                var info = stat()
                if stat(layout.objectPath(id), &info) != 0 || Int64(info.st_size) != row.size {
                    reason = "content file size differs from the one recorded at intake (recorded \(row.size), found \(Int64(info.st_size)))"
                }
            }
            if let reason, var record = try DocumentRecord.fetchOne(db, key: id) {
                try Self.move(&record, to: .quarantined, cause: "store check: \(reason)", reason: reason, at: now, in: db)
                report.quarantined.append(.init(id: id.description, reason: reason))
            }
        }
        return report
    }

    private func setAside(_ name: [UInt8]) throws {
        let source = cPath(layout.objectsDirectory, name)
        for attempt in 1...1000 {
            let target = attempt == 1 ? name : name + Array(".\(attempt)".utf8)
            if link(source, cPath(layout.orphansDirectory, target)) == 0 {
                unlink(source)
                return
            }
            if errno != EEXIST { throw SystemCallError(call: "link", path: String(decoding: name, as: UTF8.self), errno: errno) }
        }
        throw SystemCallError(call: "link", path: String(decoding: name, as: UTF8.self), errno: EEXIST)
    }

    private func resumeTransientStates(_ db: Database) throws -> [String] {
        var resumed: [String] = []
        let now = Date()
        let transient = DocumentState.allCases.filter(\.isTransient).map(\.rawValue)
        for var record in try DocumentRecord.filter(transient.contains(DocumentRecord.Columns.state)).fetchAll(db) {
            switch record.state {
            case .received:
                try Self.move(&record, to: .afterIntake(alreadySigned: record.metadata.signed), cause: "intake finished after a restart", reason: nil, at: now, in: db)
            case .sending:
                try Self.move(&record, to: .queued, cause: "sending was interrupted by a restart; it will be sent again", reason: nil, at: now, in: db)
            default:
                continue
            }
            resumed.append(record.id.description)
        }
        return resumed
    }

    static func sha256(ofFile path: String) throws -> String { try digest(ofFile: path, sync: false).sha256 }

    /// SHA-256 (hex) and size of a file, read in 64 KiB chunks; with `sync`, then fsynced (a file
    /// about to be renamed into place).
    static func digest(ofFile path: String, sync: Bool) throws -> (sha256: String, size: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError(call: "open", path: path, errno: errno) }
        defer { close(fd) }
        var hasher = SHA256()
        var size: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemCallError(call: "read", path: path, errno: errno)
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            size += Int64(count)
        }
        if sync { try POSIXFile.fsyncFile(fd, path: path) }
        return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), size)
    }
}

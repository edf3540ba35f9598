import DocumentModel
import DurableDatabase
import DurableFiles
import Foundation
import GRDB
import Logging

/// The hub's durable store: one SQLite database (WAL, synchronous=FULL) and the package files.
/// A package is acknowledged (its receipt sent) only after its file is fsynced and renamed into
/// `packages/`, its hand-off link made, both directories fsynced and its rows committed — the
/// same order as gatewayd's store (docs/architecture.md, "Durability").
package final class HubStore: Sendable {
    package struct Layout: Sendable {
        package let data: String
        package let handoff: String
        var database: String { data + "/hub.sqlite" }
        var temporary: String { data + "/tmp" }
        var packages: String { data + "/packages" }
        var uploads: String { data + "/uploads" }
        var orphans: String { data + "/orphans" }
        func package(_ file: String) -> String { packages + "/" + file }
        func handoffFile(_ file: String) -> String { handoff + "/" + file }
        func upload(_ id: String) -> String { uploads + "/" + id + ".part" }
    }

    package struct StoredPackage: Sendable {
        package var id: Int64
        package var key: String
        package var sha256: String
        package var size: Int64
        package var receipt: [UInt8]
        package var duplicate: Bool
        package var deliveries: [Delivery]
    }

    package struct Delivery: Sendable, Codable, Equatable {
        package var id: Int64
        package var commune: String
        package var state: String
        package var deliveredAt: String?
        /// Why the commune's box refused it (state `refused`): "Tiếng Việt / English".
        package var refusal: String?

        enum CodingKeys: String, CodingKey { case id, commune, state, deliveredAt = "delivered_at", refusal }

        static func of(_ row: Row) -> Delivery {
            let delivered: String? = row["delivered_at"]
            let refused: String? = row["refused_at"]
            return Delivery(id: row["id"], commune: row["commune"],
                            state: refused != nil ? "refused" : delivered == nil ? "queued" : "delivered",
                            deliveredAt: delivered.map(HubTime.display), refusal: row["refusal"])
        }
    }

    /// One package waiting for someone (a commune's inbox, or the hand-off).
    package struct Upload: Sendable {
        package var id: String
        package var owner: String
        package var length: Int64
        package var packageID: Int64?
        package var refusal: HubError?
        /// The box's audit anchor given at creation (Upload-Metadata `audit_head`), signed into the receipt.
        package var auditHead: AuditAnchor?
    }

    package let layout: Layout
    let database: DatabasePool
    /// Enrolment tokens and the certificates issued (docs/protocol.md, "Enrolment").
    package let enrolment: EnrolmentRecords
    let logger: Logger

    package init(dataDirectory: String, handoffDirectory: String, agencies: [HubConfiguration.Agency], logger: Logger) throws {
        layout = Layout(data: dataDirectory, handoff: handoffDirectory)
        self.logger = logger
        for directory in [layout.data, layout.temporary, layout.packages, layout.uploads, layout.orphans, layout.handoff] {
            try POSIXFile.makeDirectory(directory)
        }
        database = try Self.openDatabase(path: layout.database)
        enrolment = EnrolmentRecords(database: database)
        try database.write { db in
            // The directory is the configuration's: what a technician removed there is gone here.
            try db.execute(sql: "DELETE FROM agencies")
            for agency in agencies {
                try db.execute(sql: "INSERT INTO agencies (code, name, served) VALUES (?, ?, ?)", arguments: [agency.code, agency.name, agency.served])
            }
        }
        try recover()
    }

    /// The database, migrated. Also opened on its own by `hubd enroll-token` while hubd runs:
    /// WAL lets both write, and nothing here touches the package files.
    static func openDatabase(path: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // An acknowledged package must survive a power cut: every commit reaches the disk.
        let database = try DurableDatabase.openPool(path: path, configuration: configuration)
        try migrator.migrate(database)
        return database
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE agencies (code TEXT PRIMARY KEY, name TEXT NOT NULL, served INTEGER NOT NULL);
                CREATE TABLE packages (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, kind TEXT NOT NULL,
                    sha256 TEXT NOT NULL, size INTEGER NOT NULL, from_code TEXT NOT NULL,
                    submitted_by TEXT NOT NULL, received_at TEXT NOT NULL, file TEXT NOT NULL UNIQUE, receipt BLOB NOT NULL,
                    -- Keys are scoped by sender: a box cannot take another commune's DocumentId.
                    UNIQUE (from_code, key));
                CREATE TABLE handoff (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, package_id INTEGER NOT NULL UNIQUE REFERENCES packages(id),
                    queued_at TEXT NOT NULL, acked_at TEXT);
                CREATE TABLE inbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, commune TEXT NOT NULL, package_id INTEGER NOT NULL REFERENCES packages(id),
                    queued_at TEXT NOT NULL, delivered_at TEXT, UNIQUE (commune, package_id));
                CREATE INDEX inbox_waiting ON inbox (commune, delivered_at);
                CREATE TABLE uploads (
                    id TEXT PRIMARY KEY, owner TEXT NOT NULL, length INTEGER NOT NULL, metadata TEXT NOT NULL,
                    created_at TEXT NOT NULL, package_id INTEGER REFERENCES packages(id), refusal_code TEXT, refusal_vi TEXT, refusal_en TEXT);
                """)
        }
        migrator.registerMigration("v2: refused inbox items") { db in
            // A box refuses what it can never take (too large, fields that break the rules): the
            // item leaves its inbox with the reason, which goes back to the sender (docs/protocol.md).
            try db.execute(sql: "ALTER TABLE inbox ADD COLUMN refused_at TEXT; ALTER TABLE inbox ADD COLUMN refusal TEXT")
        }
        migrator.registerMigration("v3: enrolment") { db in
            // Tokens only as their SHA-256: the database (or a backup of it) yields no token that
            // works. Each issued certificate keeps the CSR it answered — only CSRs that were
            // answered, whose key is the certificate's — and, on renewal, the serial it replaced.
            try db.execute(sql: """
                CREATE TABLE enrolment_tokens (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, agency TEXT NOT NULL, name TEXT,
                    token_sha256 BLOB NOT NULL UNIQUE, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
                    used_at TEXT, revoked_at TEXT);
                CREATE INDEX enrolment_tokens_agency ON enrolment_tokens (agency);
                CREATE TABLE issued_certificates (
                    serial TEXT PRIMARY KEY, agency TEXT NOT NULL, issued_at TEXT NOT NULL, not_after TEXT NOT NULL,
                    token_id INTEGER REFERENCES enrolment_tokens(id), renewed_from TEXT,
                    csr BLOB NOT NULL, certificate BLOB NOT NULL);
                CREATE INDEX issued_certificates_agency ON issued_certificates (agency);
                """)
        }
        migrator.registerMigration("v4: redelivery") { db in
            // A box that restored an older backup asks for what was delivered since: those items
            // wait in its inbox again until it acknowledges them again (HubStore+Redelivery.swift).
            try db.execute(sql: "ALTER TABLE inbox ADD COLUMN redeliver_at TEXT")
        }
        return migrator
    }

    /// Before any door opens: what was never acknowledged cannot be trusted or needed. Temporary
    /// files go; package and hand-off files without a committed row (a crash between rename and
    /// commit) move to `orphans/` — never deleted, never seen by a client.
    func recover() throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: layout.temporary)) ?? [] {
            POSIXFile.unlinkIfPresent(layout.temporary + "/" + name)
        }
        let (files, handedOff) = try database.read { db in
            (Set(try String.fetchAll(db, sql: "SELECT file FROM packages")),
             Set(try String.fetchAll(db, sql: "SELECT p.file FROM handoff h JOIN packages p ON p.id = h.package_id")))
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: layout.packages)) ?? [] where !files.contains(name) {
            try? POSIXFile.rename(layout.package(name), layout.orphans + "/" + name)
            logger.warning("package file without a row moved to orphans", metadata: ["file": "\(name)"])
        }
        // Only our own names (<uuid>.edxml) in the hand-off folder: the document system may put
        // or leave other things there.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: layout.handoff)) ?? []
        where name.hasSuffix(".edxml") && UUID(uuidString: String(name.dropLast(6))) != nil && !handedOff.contains(name) {
            try? POSIXFile.rename(layout.handoffFile(name), layout.orphans + "/handoff-" + name)
            logger.warning("hand-off file without a row moved to orphans", metadata: ["file": "\(name)"])
        }
        // Upload rows whose file is gone (removed by hand) cannot continue.
        let uploads = try database.read { db in try String.fetchAll(db, sql: "SELECT id FROM uploads WHERE package_id IS NULL AND refusal_code IS NULL") }
        for id in uploads where POSIXFile.size(layout.upload(id)) == nil {
            try database.write { db in try db.execute(sql: "DELETE FROM uploads WHERE id = ?", arguments: [id]) }
        }
        // Part files without a row: an expiry interrupted between its commit and the unlink.
        let known = Set(try database.read { db in try String.fetchAll(db, sql: "SELECT id FROM uploads") })
        for name in (try? FileManager.default.contentsOfDirectory(atPath: layout.uploads)) ?? []
        where name.hasSuffix(".part") && !known.contains(String(name.dropLast(5))) {
            POSIXFile.unlinkIfPresent(layout.uploads + "/" + name)
        }
    }

    package func newTemporaryPath() -> String {
        layout.temporary + "/" + UUID().uuidString.lowercased() + ".part"
    }

    // MARK: directory

    package func directory() throws -> [HubConfiguration.Agency] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT code, name, served FROM agencies ORDER BY code").map {
                HubConfiguration.Agency(code: $0["code"], name: $0["name"], served: $0["served"])
            }
        }
    }

    package func servedCommunes() throws -> Set<String> {
        try database.read { db in Set(try String.fetchAll(db, sql: "SELECT code FROM agencies WHERE served = 1")) }
    }

    // MARK: packages

    /// What the hub already holds from `from` under `key`: its digest and receipt.
    package func existing(from: String, key: String) async throws -> (sha256: String, receipt: [UInt8], id: Int64)? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT id, sha256, receipt FROM packages WHERE from_code = ? AND key = ?", arguments: [from, key]).map { row -> (sha256: String, receipt: [UInt8], id: Int64) in
                (row["sha256"], [UInt8](row["receipt"] as Data), row["id"])
            }
        }
    }

    /// Makes a complete, fsynced temporary file a stored package, routed; or, when the same key
    /// was committed meanwhile, returns that one (and removes the temporary file).
    package func commit(temporaryPath: String, summary: PackageSummary, sha256: String, size: Int64, submittedBy: String,
                       receivedAt: Date, receipt: [UInt8], routing: Routing) async throws -> StoredPackage {
        let file = UUID().uuidString.lowercased() + ".edxml"
        let layout = self.layout
        do {
            return try await database.write { db -> StoredPackage in
                if let row = try Row.fetchOne(db, sql: "SELECT id, sha256, receipt FROM packages WHERE from_code = ? AND key = ?",
                                              arguments: [summary.from, summary.key]) {
                    POSIXFile.unlinkIfPresent(temporaryPath)
                    return StoredPackage(id: row["id"], key: summary.key, sha256: row["sha256"], size: size,
                                         receipt: [UInt8](row["receipt"] as Data), duplicate: true, deliveries: try Self.deliveries(db, packageID: row["id"]))
                }
                // Files first, rows last: a crash in between leaves files recovery moves aside.
                try POSIXFile.rename(temporaryPath, layout.package(file))
                try POSIXFile.fsyncDirectory(layout.packages)
                if routing.handOff {
                    try POSIXFile.link(layout.package(file), layout.handoffFile(file))
                    try POSIXFile.fsyncDirectory(layout.handoff)
                }
                let now = HubTime.storage(receivedAt)
                try db.execute(sql: """
                    INSERT INTO packages (key, kind, sha256, size, from_code, submitted_by, received_at, file, receipt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [summary.key, summary.kind.rawValue, sha256, size, summary.from, submittedBy, now, file, Data(receipt)])
                let id = db.lastInsertedRowID
                if routing.handOff {
                    try db.execute(sql: "INSERT INTO handoff (package_id, queued_at) VALUES (?, ?)", arguments: [id, now])
                }
                for commune in routing.communes {
                    try db.execute(sql: "INSERT INTO inbox (commune, package_id, queued_at) VALUES (?, ?, ?)", arguments: [commune, id, now])
                }
                return StoredPackage(id: id, key: summary.key, sha256: sha256, size: size, receipt: receipt, duplicate: false,
                                     deliveries: try Self.deliveries(db, packageID: id))
            }
        } catch {
            // Nothing was acknowledged: undo the files so a retry starts clean.
            POSIXFile.unlinkIfPresent(layout.handoffFile(file))
            POSIXFile.unlinkIfPresent(layout.package(file))
            POSIXFile.unlinkIfPresent(temporaryPath)
            throw error
        }
    }

    static func deliveries(_ db: Database, packageID: Int64) throws -> [Delivery] {
        try Row.fetchAll(db, sql: "SELECT id, commune, delivered_at, refused_at, refusal FROM inbox WHERE package_id = ? ORDER BY id",
                         arguments: [packageID]).map(Delivery.of)
    }

    // MARK: inbox (boxes) and hand-off (office)

    /// What waits for `commune`, after the item `after` (a box that set items aside asks only for
    /// newer ones: the long poll then waits instead of answering at once with what it put aside).
    package func inbox(commune: String, after: Int64 = 0, limit: Int = 100) async throws -> [RelayWaitingItem] {
        try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT i.id, p.kind, p.key, p.from_code, p.size, p.sha256, i.queued_at FROM inbox i JOIN packages p ON p.id = i.package_id
                WHERE i.commune = ? AND (i.delivered_at IS NULL OR i.redeliver_at IS NOT NULL) AND i.refused_at IS NULL AND i.id > ?
                ORDER BY i.id LIMIT ?
                """, arguments: [commune, after, limit]).map { Self.item($0, file: nil) }
        }
    }

    /// The package a commune's box refused, when this call refused it (nil: refused before, the
    /// refusal already went back; a delivered item cannot be refused any more, and a redelivered
    /// one refused is only taken off the box's inbox again).
    package func refuseInbox(commune: String, id: Int64, reason: String, at date: Date) async throws -> (kind: String, key: String, from: String)? {
        let result = try await database.write { db -> (found: Bool, package: (kind: String, key: String, from: String)?) in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT i.delivered_at, i.refused_at, i.redeliver_at, p.kind, p.key, p.from_code FROM inbox i JOIN packages p ON p.id = i.package_id
                WHERE i.id = ? AND i.commune = ?
                """, arguments: [id, commune]) else { return (false, nil) }
            let delivered: String? = row["delivered_at"], refused: String? = row["refused_at"]
            if delivered != nil, (row["redeliver_at"] as String?) != nil {
                // A box declining a redelivery: it took the item once, its sender was answered then.
                try db.execute(sql: "UPDATE inbox SET redeliver_at = NULL WHERE id = ?", arguments: [id])
                return (true, nil)
            }
            guard delivered == nil, refused == nil else { return (true, nil) }
            try db.execute(sql: "UPDATE inbox SET refused_at = ?, refusal = ? WHERE id = ?", arguments: [HubTime.storage(date), reason, id])
            return (true, (row["kind"], row["key"], row["from_code"]))
        }
        guard result.found else { throw HubError.notFound("mục hộp thư \(id) / inbox item \(id)") }
        return result.package
    }

    /// Whether the document `key` from `sender` was delivered to (or refused by) `commune`: the
    /// only agencies whose statuses about it the hub accepts.
    package func wasDelivered(documentKey key: String, from sender: String, to commune: String) async throws -> Bool {
        try await database.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM inbox i JOIN packages p ON p.id = i.package_id
                WHERE p.kind = 'document' AND p.key = ? AND p.from_code = ? AND i.commune = ?
                AND (i.delivered_at IS NOT NULL OR i.refused_at IS NOT NULL))
                """, arguments: [key, sender, commune]) ?? false
        }
    }

    package func handoff(limit: Int = 100) async throws -> [RelayWaitingItem] {
        try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT h.id, p.kind, p.key, p.from_code, p.size, p.sha256, h.queued_at, p.file FROM handoff h JOIN packages p ON p.id = h.package_id
                WHERE h.acked_at IS NULL ORDER BY h.id LIMIT ?
                """, arguments: [limit]).map { Self.item($0, file: $0["file"]) }
        }
    }

    static func item(_ row: Row, file: String?) -> RelayWaitingItem {
        RelayWaitingItem(id: row["id"], kind: row["kind"], key: row["key"], from: row["from_code"], size: row["size"], sha256: row["sha256"],
                         queuedAt: HubTime.display(row["queued_at"]), file: file)
    }

    /// The stored file of an inbox item of `commune` (another commune's item is "not found").
    package func inboxPackage(commune: String, id: Int64) async throws -> (path: String, sha256: String, size: Int64) {
        let layout = self.layout
        guard let found = try await database.read({ db in
            try Row.fetchOne(db, sql: "SELECT p.file, p.sha256, p.size FROM inbox i JOIN packages p ON p.id = i.package_id WHERE i.id = ? AND i.commune = ?",
                             arguments: [id, commune]).map(Self.fileRow)
        }) else { throw HubError.notFound("mục hộp thư \(id) / inbox item \(id)") }
        return (layout.package(found.file), found.sha256, found.size)
    }

    package func acknowledgeInbox(commune: String, id: Int64, at date: Date) async throws {
        let changed = try await database.write { db in
            // A redelivered item's time moves to this acknowledgement: a box restoring a backup
            // taken before it asks again from then (HubStore+Redelivery.swift).
            try db.execute(sql: """
                UPDATE inbox SET delivered_at = CASE WHEN redeliver_at IS NULL THEN COALESCE(delivered_at, ?1) ELSE ?1 END, redeliver_at = NULL
                WHERE id = ?2 AND commune = ?3
                """, arguments: [HubTime.storage(date), id, commune])
            return db.changesCount
        }
        if changed == 0 { throw HubError.notFound("mục hộp thư \(id) / inbox item \(id)") }
    }

    package func handoffPackage(id: Int64) async throws -> (path: String, sha256: String, size: Int64) {
        let layout = self.layout
        guard let found = try await database.read({ db in
            try Row.fetchOne(db, sql: "SELECT p.file, p.sha256, p.size FROM handoff h JOIN packages p ON p.id = h.package_id WHERE h.id = ?",
                             arguments: [id]).map(Self.fileRow)
        }) else { throw HubError.notFound("gói chuyển giao \(id) / hand-off item \(id)") }
        return (layout.package(found.file), found.sha256, found.size)
    }

    static func fileRow(_ row: Row) -> (file: String, sha256: String, size: Int64) {
        (row["file"], row["sha256"], row["size"])
    }

    package func acknowledgeHandoff(id: Int64, at date: Date) async throws {
        let changed = try await database.write { db in
            try db.execute(sql: "UPDATE handoff SET acked_at = COALESCE(acked_at, ?) WHERE id = ?", arguments: [HubTime.storage(date), id])
            return db.changesCount
        }
        if changed == 0 { throw HubError.notFound("gói chuyển giao \(id) / hand-off item \(id)") }
    }

    package func delivery(id: Int64) async throws -> Delivery {
        guard let delivery = try await database.read({ db in
            try Row.fetchOne(db, sql: "SELECT id, commune, delivered_at, refused_at, refusal FROM inbox WHERE id = ?", arguments: [id]).map(Delivery.of)
        }) else { throw HubError.notFound("lần chuyển \(id) / delivery \(id)") }
        return delivery
    }

    package func receipt(packageID: Int64) async throws -> (receipt: [UInt8], key: String, sha256: String) {
        guard let found = try await database.read({ db in
            try Row.fetchOne(db, sql: "SELECT receipt, key, sha256 FROM packages WHERE id = ?", arguments: [packageID]).map { row -> (receipt: [UInt8], key: String, sha256: String) in
                ([UInt8](row["receipt"] as Data), row["key"], row["sha256"])
            }
        }) else { throw HubError.notFound("gói \(packageID) / package \(packageID)") }
        return found
    }
}

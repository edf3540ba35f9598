// The console's people in the store's database (migration v11, docs/console.md): accounts,
// sessions, failed logins and the audit; the rules that use them are in the Console module.
import Foundation
import GRDB

/// What a person may do in the console (issue 15): văn thư submits, numbers, seals and acts on
/// the inbox; lãnh đạo signs; quản trị administers people and settings.
package enum ConsoleRole: String, Sendable, CaseIterable, Codable {
    case vanThu = "van_thu"
    case lanhDao = "lanh_dao"
    case quanTri = "quan_tri"
}

package struct ConsoleUser: Sendable, Equatable {
    package var login: String
    package var displayName: String
    package var role: ConsoleRole
    /// For a lãnh đạo: the certificate identity (`CCCD:…`) of one of `[[signing.leaders]]`.
    package var identity: String?
    package var passwordHash: String
    package var disabled = false
    /// Failed logins since the last success: the account's growing delay (Console's LockOutRules).
    package var failedLogins = 0
    package var lastFailedAt: Date?

    package init(login: String, displayName: String, role: ConsoleRole, identity: String?, passwordHash: String) {
        (self.login, self.displayName, self.role, self.identity, self.passwordHash) = (login, displayName, role, identity, passwordHash)
    }

    init(row: Row) {
        login = row["login"]
        displayName = row["display_name"]
        role = ConsoleRole(rawValue: row["role"]) ?? .vanThu
        identity = row["identity"]
        passwordHash = row["password_hash"]
        disabled = row["disabled"]
        failedLogins = row["failed_logins"]
        lastFailedAt = row["last_failed_at"]
    }
}

/// A console session as stored: the cookie's token only by its SHA-256.
package struct ConsoleSessionRecord: Sendable, Equatable {
    package var tokenSHA256: String
    package var login: String
    package var csrf: String
    package var createdAt: Date
    package var lastSeenAt: Date
    package var expiresAt: Date

    package init(tokenSHA256: String, login: String, csrf: String, createdAt: Date, lastSeenAt: Date, expiresAt: Date) {
        (self.tokenSHA256, self.login, self.csrf, self.createdAt, self.lastSeenAt, self.expiresAt) =
            (tokenSHA256, login, csrf, createdAt, lastSeenAt, expiresAt)
    }
}

/// One audit line: who did what to whom, from where.
package struct ConsoleAuditEntry: Sendable, Equatable {
    package var at: Date
    package var actor: String
    package var action: String
    package var subject: String?
    package var address: String?
    package var detail: String?

    package init(at: Date, actor: String, action: String, subject: String? = nil, address: String? = nil, detail: String? = nil) {
        (self.at, self.actor, self.action, self.subject, self.address, self.detail) = (at, actor, action, subject, address, detail)
    }
}

/// The accounts' tables. Every change to an account commits with its audit entry.
package final class AccountStore: Sendable {
    package enum Failure: Error, CustomStringConvertible, Equatable {
        case exists(String)
        case noSuchUser(String)
        case adminExists
        case schemaMissing

        package var description: String {
            switch self {
            case .exists(let login): "Tài khoản \(login) đã có. / Account \(login) already exists."
            case .noSuchUser(let login): "Không có tài khoản \(login). / No account \(login)."
            case .adminExists: "Đã có quản trị. / An administrator already exists."
            case .schemaMissing:
                "Kho chưa có bảng tài khoản: hãy khởi động lại gatewayd bản mới. / The store has no account tables yet: restart the new gatewayd first."
            }
        }
    }

    let database: any DatabaseWriter

    init(database: any DatabaseWriter) { self.database = database }

    /// The database of a running daemon's store, opened beside it (SQLite's locks make the second
    /// writer safe; a change is a single-row transaction, seen by the console's next request).
    /// The daemon applied the migrations, so none are run here.
    package static func beside(_ layout: StoreLayout) throws -> AccountStore {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let queue = try DatabaseQueue(path: layout.databasePath, configuration: configuration)
        guard try queue.read({ db in try db.tableExists("console_user") }) else { throw Failure.schemaMissing }
        return AccountStore(database: queue)
    }

    // MARK: accounts

    package func users() throws -> [ConsoleUser] {
        try database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM console_user ORDER BY login").map(ConsoleUser.init) }
    }

    package func user(_ login: String) throws -> ConsoleUser? {
        try database.read { db in try Row.fetchOne(db, sql: "SELECT * FROM console_user WHERE login = ?", arguments: [login]).map(ConsoleUser.init) }
    }

    /// True when an enabled quản trị exists: until then every page leads to the setup page.
    package func administratorExists() throws -> Bool {
        try database.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM console_user WHERE role = ? AND disabled = 0)",
                              arguments: [ConsoleRole.quanTri.rawValue]) ?? false
        }
    }

    /// `onlyIfNoAdministrator`: the first-run setup, checked in the same transaction, so two
    /// setup pages submitted together make one administrator.
    package func add(_ user: ConsoleUser, audit: ConsoleAuditEntry, onlyIfNoAdministrator: Bool = false) throws {
        try database.write { db in
            if onlyIfNoAdministrator, try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM console_user WHERE role = ? AND disabled = 0)",
                                                           arguments: [ConsoleRole.quanTri.rawValue]) == true {
                throw Failure.adminExists
            }
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM console_user WHERE login = ?)", arguments: [user.login]) == true {
                throw Failure.exists(user.login)
            }
            try db.execute(sql: """
                INSERT INTO console_user (login, display_name, role, identity, password_hash, disabled, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [user.login, user.displayName, user.role.rawValue, user.identity, user.passwordHash, user.disabled, audit.at, audit.at])
            try Self.insert(audit, db)
        }
    }

    package func setPassword(_ login: String, hash: String, audit: ConsoleAuditEntry) throws {
        try update(login, audit: audit, sql: "UPDATE console_user SET password_hash = ?, updated_at = ? WHERE login = ?", [hash, audit.at, login])
    }

    /// Disabling also ends the account's sessions.
    package func setDisabled(_ login: String, _ disabled: Bool, audit: ConsoleAuditEntry) throws {
        try update(login, audit: audit, sql: "UPDATE console_user SET disabled = ?, updated_at = ? WHERE login = ?", [disabled, audit.at, login])
    }

    /// Clears the account's growing delay and the failures recorded against it (which also count
    /// towards the addresses they came from).
    package func unlock(_ login: String, audit: ConsoleAuditEntry) throws {
        try update(login, audit: audit, sql: "UPDATE console_user SET failed_logins = 0, last_failed_at = NULL WHERE login = ?", [login]) { db in
            try db.execute(sql: "DELETE FROM console_login_failure WHERE login = ?", arguments: [login])
        }
    }

    /// Whether the account's password was last set by an administrator (`password_reset`) rather
    /// than by its owner (`password`): the owner must then choose a new one after logging in.
    /// Told by the audit, which commits with each change (no column of its own).
    package func passwordWasReset(_ login: String) throws -> Bool {
        try database.read { db in
            try String.fetchOne(db, sql: """
                SELECT action FROM console_audit WHERE subject = ? AND action IN ('password', 'password_reset', 'user_add')
                ORDER BY seq DESC LIMIT 1
                """, arguments: [login]) == "password_reset"
        }
    }

    private func update(_ login: String, audit: ConsoleAuditEntry, sql: String, _ arguments: StatementArguments,
                        also: ((Database) throws -> Void)? = nil) throws {
        try database.write { db in
            try db.execute(sql: sql, arguments: arguments)
            if db.changesCount == 0 { throw Failure.noSuchUser(login) }
            try also?(db)
            // A new password (one's own, or reset by an administrator) or a disabled account ends
            // the sessions opened with the old state.
            if ["password", "password_reset", "disable"].contains(audit.action) {
                try db.execute(sql: "DELETE FROM console_session WHERE login = ?", arguments: [login])
            }
            try Self.insert(audit, db)
        }
    }

    // MARK: logins

    /// A refused login: counted against the address and, when the account exists, the account.
    package func recordFailure(login: String, address: String, audit: ConsoleAuditEntry) throws {
        try database.write { db in
            try db.execute(sql: "INSERT INTO console_login_failure (address, login, at) VALUES (?, ?, ?)", arguments: [address, login, audit.at])
            try db.execute(sql: "UPDATE console_user SET failed_logins = failed_logins + 1, last_failed_at = ? WHERE login = ?",
                           arguments: [audit.at, login])
            try Self.insert(audit, db)
        }
    }

    /// Failed logins from `address` since `since`, oldest first (the per-address lock-out).
    package func failures(from address: String, since: Date) throws -> [Date] {
        try database.read { db in
            try Date.fetchAll(db, sql: "SELECT at FROM console_login_failure WHERE address = ? AND at >= ? ORDER BY at",
                              arguments: [address, since])
        }
    }

    /// A login that succeeded: the account's count reset, its session stored, audited together.
    /// Failures older than `forgetBefore` are dropped here (they no longer count).
    package func recordLogin(_ session: ConsoleSessionRecord, address: String, audit: ConsoleAuditEntry, forgetBefore: Date) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE console_user SET failed_logins = 0, last_failed_at = NULL WHERE login = ?", arguments: [session.login])
            try db.execute(sql: """
                INSERT INTO console_session (token_sha256, login, csrf, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [session.tokenSHA256, session.login, session.csrf, session.createdAt, session.lastSeenAt, session.expiresAt])
            try db.execute(sql: "DELETE FROM console_login_failure WHERE at < ?", arguments: [forgetBefore])
            try db.execute(sql: "DELETE FROM console_session WHERE expires_at < ?", arguments: [audit.at])
            try Self.insert(audit, db)
        }
    }

    // MARK: sessions

    package func session(_ tokenSHA256: String) throws -> ConsoleSessionRecord? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM console_session WHERE token_sha256 = ?", arguments: [tokenSHA256]).map { row in
                ConsoleSessionRecord(tokenSHA256: row["token_sha256"], login: row["login"], csrf: row["csrf"], createdAt: row["created_at"],
                                     lastSeenAt: row["last_seen_at"], expiresAt: row["expires_at"])
            }
        }
    }

    package func touch(_ tokenSHA256: String, at: Date) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE console_session SET last_seen_at = ? WHERE token_sha256 = ?", arguments: [at, tokenSHA256])
        }
    }

    /// Logout, or a session found expired.
    package func endSession(_ tokenSHA256: String, audit: ConsoleAuditEntry?) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM console_session WHERE token_sha256 = ?", arguments: [tokenSHA256])
            if let audit { try Self.insert(audit, db) }
        }
    }

    // MARK: audit

    package func audit(_ entry: ConsoleAuditEntry) throws {
        try database.write { db in try Self.insert(entry, db) }
    }

    /// The latest entries, newest first.
    package func auditEntries(limit: Int = 100) throws -> [ConsoleAuditEntry] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM console_audit ORDER BY seq DESC LIMIT ?", arguments: [limit]).map { row in
                ConsoleAuditEntry(at: row["at"], actor: row["actor"], action: row["action"], subject: row["subject"],
                                  address: row["address"], detail: row["detail"])
            }
        }
    }

    static func insert(_ entry: ConsoleAuditEntry, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO console_audit (at, actor, action, subject, address, detail) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [entry.at, entry.actor, entry.action, entry.subject, entry.address, entry.detail])
    }
}

extension DocumentStore {
    /// The console's accounts, in this store's database.
    package var accounts: AccountStore { AccountStore(database: database) }
}

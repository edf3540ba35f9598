// The commune software's API keys (migration v12, docs/api.md): kept beside the console's
// accounts, in the same database and audit. The key itself is shown once when it is made and
// stored only as its SHA-256.
import Foundation
import GRDB

/// What a key may do. Software gets a văn thư's rights at most: it never signs (lãnh đạo) nor
/// administers (quản trị); a read-only key lists and reads.
package enum APIKeyRole: String, Sendable, CaseIterable, Codable {
    case vanThu = "van_thu"
    case readOnly = "chi_doc"
}

package struct APIKeyRecord: Sendable, Equatable, Codable {
    package var name: String
    package var role: APIKeyRole
    package var createdAt: Date
    package var createdBy: String
    package var revokedAt: Date?

    package init(name: String, role: APIKeyRole, createdAt: Date, createdBy: String, revokedAt: Date? = nil) {
        (self.name, self.role, self.createdAt, self.createdBy, self.revokedAt) = (name, role, createdAt, createdBy, revokedAt)
    }

    init(row: Row) {
        name = row["name"]
        role = APIKeyRole(rawValue: row["role"]) ?? .readOnly
        createdAt = row["created_at"]
        createdBy = row["created_by"]
        revokedAt = row["revoked_at"]
    }
}

extension AccountStore {
    package enum APIKeyFailure: Error, CustomStringConvertible, Equatable {
        case exists(String)
        case noSuchKey(String)

        package var description: String {
            switch self {
            case .exists(let name): "Khóa API \(name) đã có. / API key \(name) already exists."
            case .noSuchKey(let name): "Không có khóa API \(name) (hoặc đã thu hồi). / No API key \(name) (or already revoked)."
            }
        }
    }

    /// A new key, stored by the SHA-256 of its token with its audit entry (`api_key_add`).
    package func addAPIKey(_ key: APIKeyRecord, tokenSHA256: String, audit: ConsoleAuditEntry) throws {
        try database.write { db in
            try Self.requireKeys(db)
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM console_api_key WHERE name = ?)", arguments: [key.name]) == true {
                throw APIKeyFailure.exists(key.name)
            }
            try db.execute(sql: "INSERT INTO console_api_key (name, token_sha256, role, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                           arguments: [key.name, tokenSHA256, key.role.rawValue, key.createdAt, key.createdBy])
            try Self.insert(audit, db)
        }
    }

    /// Revoked for good: its token is refused from the next request on (`api_key_revoke`).
    package func revokeAPIKey(_ name: String, audit: ConsoleAuditEntry) throws {
        try database.write { db in
            try Self.requireKeys(db)
            try db.execute(sql: "UPDATE console_api_key SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", arguments: [audit.at, name])
            if db.changesCount == 0 { throw APIKeyFailure.noSuchKey(name) }
            try Self.insert(audit, db)
        }
    }

    package func apiKeys() throws -> [APIKeyRecord] {
        try database.read { db in
            try Self.requireKeys(db)
            return try Row.fetchAll(db, sql: "SELECT * FROM console_api_key ORDER BY name").map(APIKeyRecord.init)
        }
    }

    /// `gatewayd api-key` beside a daemon older than migration v12: told to restart it, not SQLite's words.
    static func requireKeys(_ db: Database) throws {
        guard try db.tableExists("console_api_key") else { throw Failure.schemaMissing }
    }

    /// The key a token's SHA-256 names, revoked or not (the caller tells the two apart).
    package func apiKey(tokenSHA256: String) throws -> APIKeyRecord? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM console_api_key WHERE token_sha256 = ?", arguments: [tokenSHA256]).map(APIKeyRecord.init)
        }
    }
}

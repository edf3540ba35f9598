import Crypto
import Foundation
import GRDB

/// The enrolment tokens and the certificates the hub issued, in hubd's database (migration
/// "v3: enrolment"). Owned by `HubStore` in the daemon; opened on its own by `hubd enroll-token`
/// and `hubd revoke`, which must not run the store's recovery beside a running hubd.
package final class EnrolmentRecords: Sendable {
    let database: DatabasePool

    init(database: DatabasePool) { self.database = database }

    /// The records of the hub whose data directory is `dataDirectory` (made if missing).
    package convenience init(dataDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        self.init(database: try HubStore.openDatabase(path: dataDirectory + "/hub.sqlite"))
    }

    package enum TokenState: String, Sendable {
        case open, used, expired, revoked
    }

    package struct TokenRow: Sendable {
        package var id: Int64
        package var agency: String
        package var createdAt: Date
        package var expiresAt: Date
        package var state: TokenState
    }

    /// Why a token did not open, for the hub's log only: the client hears one answer for all.
    package enum TokenRefusal: String, Error, Sendable {
        case unknown, used, expired, revoked, anotherAgency = "another_agency"
    }

    package struct Issued: Sendable {
        package var serial: String
        package var agency: String
        package var notAfter: Date
        package var renewedFrom: String?
        package var csr: [UInt8]
        package var certificate: [UInt8]
    }

    /// Makes one token per agency, all or none; returns them in the same order.
    package func createTokens(for agencies: [(code: String, name: String?)], expiresAt: Date, now: Date = Date()) throws
        -> [(agency: String, id: Int64, token: EnrolmentToken)] {
        try database.write { db in
            try agencies.map { agency in
                let token = EnrolmentToken.random()
                try db.execute(sql: "INSERT INTO enrolment_tokens (agency, name, token_sha256, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [agency.code, agency.name, Data(token.sha256), HubTime.storage(now), HubTime.storage(expiresAt)])
                return (agency.code, db.lastInsertedRowID, token)
            }
        }
    }

    package func tokens(now: Date = Date()) throws -> [TokenRow] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, agency, created_at, expires_at, used_at, revoked_at FROM enrolment_tokens ORDER BY id").map { row in
                let expires = Self.date(row["expires_at"])
                let state: TokenState = (row["used_at"] as String?) != nil ? .used : (row["revoked_at"] as String?) != nil ? .revoked
                    : expires <= now ? .expired : .open
                return TokenRow(id: row["id"], agency: row["agency"], createdAt: Self.date(row["created_at"]), expiresAt: expires, state: state)
            }
        }
    }

    /// Revokes the open tokens of `agency`, or the token `id` if open; how many were revoked.
    package func revokeTokens(agency: String? = nil, id: Int64? = nil, now: Date = Date()) throws -> Int {
        try database.write { db in
            // An expired token stays "expired" in the list: revoking it would change nothing.
            try db.execute(sql: """
                UPDATE enrolment_tokens SET revoked_at = ?
                WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at > ? AND (agency = ? OR id = ?)
                """, arguments: [HubTime.storage(now), HubTime.storage(now), agency, id])
            return db.changesCount
        }
    }

    /// The token's id if `token` opens for `agency` now, or why not. The agency's own tokens are
    /// compared by hash in constant time; only when none matches is the hash looked up alone, to
    /// tell the log that it was another agency's.
    package func open(agency: String, token: EnrolmentToken, now: Date = Date()) throws -> Result<Int64, TokenRefusal> {
        let hash = token.sha256
        return try database.read { db in
            var found: Row?
            for row in try Row.fetchAll(db, sql: "SELECT id, token_sha256, expires_at, used_at, revoked_at FROM enrolment_tokens WHERE agency = ?",
                                        arguments: [agency]) where EnrolmentToken.constantTimeEqual([UInt8](row["token_sha256"] as Data), hash) {
                found = row
            }
            guard let row = found else {
                let elsewhere = try Bool.fetchOne(db, sql: "SELECT 1 FROM enrolment_tokens WHERE token_sha256 = ?", arguments: [Data(hash)]) ?? false
                return .failure(elsewhere ? .anotherAgency : .unknown)
            }
            if (row["used_at"] as String?) != nil { return .failure(.used) }
            if (row["revoked_at"] as String?) != nil { return .failure(.revoked) }
            if Self.date(row["expires_at"]) <= now { return .failure(.expired) }
            return .success(row["id"])
        }
    }

    /// Spends token `tokenID` and records the certificate issued with it, in one transaction;
    /// false when the token was spent, revoked or expired meanwhile (the certificate is then
    /// thrown away, never sent).
    package func recordEnrolment(tokenID: Int64, issued: Issued, now: Date = Date()) throws -> Bool {
        try database.write { db in
            try db.execute(sql: "UPDATE enrolment_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?",
                           arguments: [HubTime.storage(now), tokenID, HubTime.storage(now)])
            guard db.changesCount == 1 else { return false }
            try Self.insert(issued, tokenID: tokenID, now: now, db)
            return true
        }
    }

    package func recordRenewal(_ issued: Issued, now: Date = Date()) throws {
        try database.write { db in try Self.insert(issued, tokenID: nil, now: now, db) }
    }

    /// What was issued to `agency`, oldest first.
    package func issued(agency: String) throws -> [Issued] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT serial, agency, not_after, renewed_from, csr, certificate FROM issued_certificates WHERE agency = ? ORDER BY rowid",
                             arguments: [agency]).map { row in
                Issued(serial: row["serial"], agency: row["agency"], notAfter: Self.date(row["not_after"]), renewedFrom: row["renewed_from"],
                       csr: [UInt8](row["csr"] as Data), certificate: [UInt8](row["certificate"] as Data))
            }
        }
    }

    private static func insert(_ issued: Issued, tokenID: Int64?, now: Date, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO issued_certificates (serial, agency, issued_at, not_after, token_id, renewed_from, csr, certificate)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [issued.serial, issued.agency, HubTime.storage(now), HubTime.storage(issued.notAfter), tokenID, issued.renewedFrom,
                             Data(issued.csr), Data(issued.certificate)])
    }

    private static func date(_ stored: String) -> Date { HubTime.date(stored: stored) ?? .distantPast }
}

import DocumentModel
import Foundation
import GRDB

extension DocumentStore: AgencyDirectorySource {
    /// The hub's directory as last fetched (table `agency_directory`, migration v6), by name.
    package func directoryEntries() throws -> [AgencyDirectory.Entry] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT code, name FROM agency_directory ORDER BY name").compactMap { row in
                AgencyCode(row["code"] as String).map { AgencyDirectory.Entry(code: $0, name: row["name"]) }
            }
        }
    }

    /// When the directory was last fetched from the hub; nil if never.
    package func directoryFetchedAt() throws -> Date? {
        try database.read { db in try Date.fetchOne(db, sql: "SELECT MAX(fetched_at) FROM agency_directory") }
    }

    /// Replaces the directory with the hub's current one, in one transaction (an agency the hub
    /// no longer lists is gone here too).
    package func replaceDirectory(_ entries: [AgencyDirectory.Entry], fetchedAt: Date) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM agency_directory")
            for entry in entries {
                try db.execute(sql: "INSERT OR REPLACE INTO agency_directory (code, name, fetched_at) VALUES (?, ?, ?)",
                               arguments: [entry.code.rawValue, entry.name, fetchedAt])
            }
        }
    }
}

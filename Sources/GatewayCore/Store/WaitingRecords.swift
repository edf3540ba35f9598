// The overview's "waiting too long" (docs/console.md, "Overview warnings"): how many documents in
// some states have not moved since a moment, counted by the database, not by reading them.
import Foundation
import DurableFiles
import GRDB

extension DocumentStore {
    /// Documents in `states` whose last change (`updated_at`: a state change, or a new reason
    /// for the same state) is before `cutoff`, and the oldest such change. The state index narrows
    /// the rows; the few that wait are then compared one by one.
    package func unmoved(in states: [DocumentState], before cutoff: Date) throws -> (count: Int, oldest: Date?) {
        try database.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS count, MIN(updated_at) AS oldest FROM document
                WHERE state IN (\(states.map { _ in "?" }.joined(separator: ","))) AND updated_at < ?
                """, arguments: StatementArguments(states.map(\.rawValue) + [cutoff.databaseValue]))
            return (row?["count"] ?? 0, row?["oldest"])
        }
    }

    /// Free bytes on the file system of the data directory (the intake refuses below
    /// `limits.diskReserve`); nil when it cannot be told.
    package func freeBytes() -> Int64? { try? POSIXFile.freeBytes(at: layout.dataDirectory) }
}

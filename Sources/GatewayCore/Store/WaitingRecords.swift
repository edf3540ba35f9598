// The overview's "waiting too long" (docs/console.md, "Overview warnings"): how many documents in
// some states have not moved since a moment, counted by the database, not by reading them.
import Foundation
import DurableFiles
import GRDB

extension DocumentStore {
    /// The count `unmoved` stops at: the overview says "more than" past it, and a page view
    /// costs the same with ten thousand documents waiting as with a thousand.
    package static let unmovedCountCap = 1_000

    /// Documents in `states` whose last change (`updated_at`: a state change, or a new reason
    /// for the same state) is before `cutoff` — at most `unmovedCountCap + 1`, so a count above
    /// the cap means "more than the cap" — and the oldest such change. Each state is a range of
    /// the `document_state_updated` index (v15): the count walks at most cap + 1 entries and the
    /// oldest is the range's first.
    package func unmoved(in states: [DocumentState], before cutoff: Date) throws -> (count: Int, oldest: Date?) {
        try database.read { db in
            var count = 0
            var oldest: Date?
            for state in states {
                let arguments: StatementArguments = [state.rawValue, cutoff.databaseValue]
                count += try Int.fetchOne(db, sql: """
                    SELECT COUNT(*) FROM (SELECT 1 FROM document INDEXED BY document_state_updated
                                          WHERE state = ? AND updated_at < ? LIMIT \(Self.unmovedCountCap + 1))
                    """, arguments: arguments) ?? 0
                if let first = try Date.fetchOne(db, sql: """
                    SELECT updated_at FROM document INDEXED BY document_state_updated
                    WHERE state = ? AND updated_at < ? ORDER BY updated_at LIMIT 1
                    """, arguments: arguments) {
                    oldest = min(oldest ?? first, first)
                }
            }
            return (min(count, Self.unmovedCountCap + 1), oldest)
        }
    }

    /// Free bytes on the file system of the data directory (the intake refuses below
    /// `limits.diskReserve`); nil when it cannot be told.
    package func freeBytes() -> Int64? { try? POSIXFile.freeBytes(at: layout.dataDirectory) }
}

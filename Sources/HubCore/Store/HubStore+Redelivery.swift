import Foundation
import GRDB

/// Redelivery (docs/protocol.md, "Delivered again: `POST /v1/inbox/redeliver`"): a box that
/// restored an older backup lost what it acknowledged since; the hub lists those items in its
/// inbox again, under their old ids, until it acknowledges each again. The box recognises an item
/// it already holds by that id, so asking too far back costs downloads, never a duplicate.
extension HubStore {
    /// Marks `commune`'s items delivered at or after `since` (and not refused) as waiting again;
    /// returns how many. Items already waiting for redelivery are counted, not marked twice.
    package func redeliver(commune: String, since: Date, at date: Date) async throws -> Int {
        try await database.write { db in
            try db.execute(sql: """
                UPDATE inbox SET redeliver_at = COALESCE(redeliver_at, ?)
                WHERE commune = ? AND delivered_at IS NOT NULL AND delivered_at >= ? AND refused_at IS NULL
                """, arguments: [HubTime.storage(date), commune, HubTime.storage(since)])
            return db.changesCount
        }
    }
}

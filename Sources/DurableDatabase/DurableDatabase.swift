// SQLite databases whose commits survive a power cut: the box's store and the hub's.
import GRDB

package enum DurableDatabase {
    /// Opens the WAL database at `path` with a writer that commits with `synchronous = FULL`: a
    /// transaction is on stable storage (the WAL fsynced) before the write returns, which is what
    /// lets the store acknowledge a document when its commit returns.
    ///
    /// Why here and not in `Configuration.prepareDatabase`: GRDB's `DatabasePool` runs
    /// `prepareDatabase` first and then puts the writer in WAL mode with `PRAGMA synchronous =
    /// NORMAL` (GRDB 7, `Database.setUpWALMode`), silently undoing a FULL set there. In WAL mode
    /// NORMAL syncs only at checkpoints, so a power cut loses every commit since the last one —
    /// image/test-boot's power-loss test lost all 21 documents acknowledged in one boot that way,
    /// while `kill -9` crash tests cannot see it (the kernel's page cache survives a killed process).
    /// The setting is per connection and only the writer commits; it is read back, so a library
    /// that changes this again fails here rather than at the next power cut.
    package static func openPool(path: String, configuration: Configuration) throws -> DatabasePool {
        let pool = try DatabasePool(path: path, configuration: configuration)
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            let level = try Int.fetchOne(db, sql: "PRAGMA synchronous")
            guard level == 2 else {
                throw DatabaseError(message: "PRAGMA synchronous is \(level.map(String.init) ?? "unknown"), not FULL (2), on \(path)")
            }
        }
        return pool
    }
}

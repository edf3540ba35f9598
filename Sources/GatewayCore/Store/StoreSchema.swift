import GRDB

/// The store's schema as named, forward-only migrations (GRDB's rule: never edit a migration
/// that has shipped; add the next one).
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: documents and their audit trail") { db in
            try db.create(table: "document") { t in
                t.primaryKey("id", .text)
                t.column("file_name", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("sha256", .text).notNull()
                t.column("state", .text).notNull()
                t.column("source", .text).notNull()
                t.column("intake_key", .text).unique()
                t.column("metadata", .text).notNull()
                t.column("priority", .integer).notNull()
                t.column("received_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                t.column("state_reason", .text)
            }
            try db.create(index: "document_state", on: "document", columns: ["state", "priority"])
            try db.create(table: "transition") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("document_id", .text).notNull().references("document", onDelete: .restrict)
                t.column("from_state", .text)
                t.column("to_state", .text).notNull()
                t.column("at", .datetime).notNull()
                t.column("cause", .text).notNull()
            }
            try db.create(index: "transition_document", on: "transition", columns: ["document_id", "seq"])
        }
        return migrator
    }
}

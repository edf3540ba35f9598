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
        migrator.registerMigration("v2: relay upstream") { db in
            // One row per document handed to the relay: its edXML package, where its resumable
            // upload stands on the hub, when to try again, and — once delivered — the hub's
            // signed receipt (kept here so the receipt and the state change commit together).
            try db.create(table: "relay_outbound") { t in
                t.primaryKey("document_id", .text).references("document", onDelete: .restrict)
                t.column("package_key", .text).notNull()
                t.column("package_sha256", .text).notNull()
                t.column("package_size", .integer).notNull()
                t.column("lane", .integer).notNull()
                t.column("queued_at", .datetime).notNull()
                t.column("upload_path", .text)
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("next_attempt_at", .datetime)
                t.column("last_error", .text)
                t.column("receipt", .blob)
                t.column("delivered_at", .datetime)
            }
            // What the hub brought down for this commune, by the hub's inbox id: stored before the
            // ack, so an item seen again after a crash is recognised and acknowledged, not doubled.
            try db.create(table: "relay_inbound") { t in
                t.primaryKey("hub_id", .integer)
                t.column("kind", .text).notNull()
                t.column("package_key", .text).notNull()
                t.column("sender", .text).notNull()
                t.column("sha256", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("stored_at", .datetime).notNull()
                t.column("acked_at", .datetime)
                t.column("status_sent_at", .datetime)
                t.column("status_receipt", .blob)
            }
        }
        migrator.registerMigration("v3: the relay's pick by index") { db in
            // The upload workers' next document, read in index order and stopped at the first few
            // (DocumentStore.relayCandidates): without it each pick sorted every queued document.
            // Partial: delivered rows, the bulk of the table over the years, are not in it.
            try db.execute(sql: """
                CREATE INDEX relay_outbound_waiting ON relay_outbound(lane DESC, queued_at, document_id)
                WHERE delivered_at IS NULL
                """)
        }
        migrator.registerMigration("v4: incoming documents in the clerks' folder") { db in
            try db.alter(table: "relay_inbound") { t in t.add(column: "folder", .text) }
        }
        migrator.registerMigration("v5: statuses from recipients") { db in
            // What the recipients said about our documents (edXML status packages: 01 arrived, 03
            // registered, 06 finished …), attached to the document they are about; committed in
            // the same transaction as the incoming item's row, so none is attached twice.
            try db.create(table: "recipient_status") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("document_id", .text).notNull().references("document", onDelete: .restrict)
                t.column("hub_id", .integer).notNull().unique()
                t.column("from_code", .text).notNull()
                t.column("from_name", .text)
                t.column("status_code", .text).notNull()
                t.column("description", .text)
                t.column("staff", .text)
                t.column("status_time", .text).notNull()
                t.column("received_at", .datetime).notNull()
            }
            try db.create(index: "recipient_status_document", on: "recipient_status", columns: ["document_id", "seq"])
        }
        migrator.registerMigration("v6: the hub's agency directory") { db in
            // A copy of the hub's GET /v1/directory, replaced whole at each fetch, so that
            // recipients can be given by name even while the link is down.
            try db.create(table: "agency_directory") { t in
                t.primaryKey("code", .text)
                t.column("name", .text).notNull()
                t.column("fetched_at", .datetime).notNull()
            }
        }
        migrator.registerMigration("v7: statuses the clerks send") { db in
            // A clerk's status about an incoming document (03 registered … 06 done, 02 refused):
            // its package is written before the row is committed, then the relay sends it and
            // keeps the hub's receipt.
            try db.create(table: "outgoing_status") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("hub_id", .integer).notNull().references("relay_inbound", onDelete: .restrict)
                t.column("status_code", .text).notNull()
                t.column("description", .text)
                t.column("staff", .text)
                t.column("package_file", .text).notNull()
                t.column("package_key", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("sent_at", .datetime)
                t.column("receipt", .blob)
                t.column("last_error", .text)
                // Refused by the hub for good (a 4xx with a reason): not sent again.
                t.column("refused", .boolean).notNull().defaults(to: false)
            }
            try db.create(index: "outgoing_status_unsent", on: "outgoing_status", columns: ["sent_at", "seq"])
        }
        migrator.registerMigration("v8: signing inside the box") { db in
            // awaiting_signature meant "the leader has not signed": it is now awaiting_leader, in
            // the rows and in their history (the word changed, not what happened).
            try db.execute(sql: "UPDATE document SET state = 'awaiting_leader' WHERE state = 'awaiting_signature'")
            try db.execute(sql: "UPDATE transition SET from_state = 'awaiting_leader' WHERE from_state = 'awaiting_signature'")
            try db.execute(sql: "UPDATE transition SET to_state = 'awaiting_leader' WHERE to_state = 'awaiting_signature'")
            try db.alter(table: "document") { t in
                // Each signature is a new version of the content; the row points at the current one.
                t.add(column: "version", .integer).notNull().defaults(to: 0)
                // The register's number and date (JSON: year, number, notation, date), set at sealing.
                t.add(column: "register_number", .text)
            }
            // One row per signature made on the box: who, with which certificate, in which role,
            // and the version it produced; committed with the version and the state change.
            try db.create(table: "signature") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("document_id", .text).notNull().references("document", onDelete: .restrict)
                t.column("role", .text).notNull()
                t.column("version", .integer).notNull()
                t.column("sha256", .text).notNull()
                t.column("signer", .text).notNull()
                t.column("identity", .text).notNull()
                t.column("certificate_sha256", .text).notNull()
                t.column("revocation", .text).notNull()
                t.column("session", .text).notNull()
                t.column("token", .text).notNull()
                t.column("signed_at", .datetime).notNull()
                t.uniqueKey(["document_id", "role"])
            }
            // The register of outgoing documents: the last number of each series (a year, and the
            // notation in per-notation numbering, "" otherwise). Advanced in the transaction that
            // gives a document its number, so no number is given twice.
            try db.create(table: "outgoing_register") { t in
                t.column("year", .integer).notNull()
                t.column("series", .text).notNull()
                t.column("last_number", .integer).notNull()
                t.column("last_date", .datetime).notNull()
                t.primaryKey(["year", "series"])
            }
        }
        migrator.registerMigration("v9: attachments") { db in
            // A document's attachments (phụ lục), in the order its metadata names them: each file
            // is `objects/<id>.a<position>[.v<version>]`, committed with the document in its intake
            // transaction. The organization signs each in the seal session: a PDF becomes version 1
            // (PAdES), another file gets `objects/<id>.a<position>.p7s` (detached CAdES);
            // `signed_at` is set in the transaction that commits that file, so an attachment is
            // either signed with its file in place or not signed at all.
            try db.create(table: "attachment") { t in
                t.column("document_id", .text).notNull().references("document", onDelete: .restrict)
                t.column("position", .integer).notNull()
                t.column("file_name", .text).notNull()
                t.column("version", .integer).notNull().defaults(to: 0)
                t.column("size", .integer).notNull()
                t.column("sha256", .text).notNull()
                t.column("signature_file", .text)
                t.column("signature_size", .integer)
                t.column("signature_sha256", .text)
                t.column("signed_at", .datetime)
                t.primaryKey(["document_id", "position"])
                t.uniqueKey(["document_id", "file_name"])
            }
        }
        migrator.registerMigration("v10: verdicts on incoming documents") { db in
            // What the box found about an incoming document's signatures (IncomingVerdict as
            // JSON: the outcome, one finding per signature, when, and how it changed), kept with
            // its row; "could not be checked" ones are found again by their outcome.
            try db.alter(table: "relay_inbound") { t in t.add(column: "verdict", .text) }
        }
        migrator.registerMigration("v11: the console's people") { db in
            // The clerks' console (docs/console.md): its accounts, their sessions (the token only
            // as its SHA-256, so a copy of the database opens no session), the failed logins the
            // lock-out counts, and the audit of every login and every change to an account.
            try db.create(table: "console_user") { t in
                t.primaryKey("login", .text)
                t.column("display_name", .text).notNull()
                t.column("role", .text).notNull()
                t.column("identity", .text)
                t.column("password_hash", .text).notNull()
                t.column("disabled", .boolean).notNull().defaults(to: false)
                t.column("failed_logins", .integer).notNull().defaults(to: 0)
                t.column("last_failed_at", .datetime)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(table: "console_session") { t in
                t.primaryKey("token_sha256", .text)
                t.column("login", .text).notNull().references("console_user", onDelete: .cascade)
                t.column("csrf", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("last_seen_at", .datetime).notNull()
                t.column("expires_at", .datetime).notNull()
            }
            try db.create(table: "console_login_failure") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("address", .text).notNull()
                t.column("login", .text).notNull()
                t.column("at", .datetime).notNull()
            }
            try db.create(index: "console_login_failure_address", on: "console_login_failure", columns: ["address", "at"])
            try db.create(table: "console_audit") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("at", .datetime).notNull()
                t.column("actor", .text).notNull()
                t.column("action", .text).notNull()
                t.column("subject", .text)
                t.column("address", .text)
                t.column("detail", .text)
            }
        }
        migrator.registerMigration("v12: API keys") { db in
            // The commune software's API keys on the console's HTTPS (docs/api.md): the key only
            // as its SHA-256 (a copy of the database calls nothing), its role, and when it was
            // revoked (kept, so the audit's names still mean something).
            try db.create(table: "console_api_key") { t in
                t.primaryKey("name", .text)
                t.column("token_sha256", .text).notNull().unique()
                t.column("role", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("created_by", .text).notNull()
                t.column("revoked_at", .datetime)
            }
        }
        migrator.registerMigration("v13: documents of a state, newest first") { db in
            // The console's outbox tabs: one state, newest first, a page at a time. On
            // `document_state` (state, priority) SQLite sorted every document of the state before
            // the first page (229 ms for a tab of 10,000: bench-console); this walks in order.
            try db.create(index: "document_state_id", on: "document", columns: ["state", "id"])
        }
        migrator.registerMigration("v14: audit chain over the transitions") { db in
            // Each audit line carries the hash of the line before it, one chain for the box in
            // `seq` order (AuditChain: the encoding; docs/architecture.md, "The audit chain"), so
            // a line changed, deleted or moved in this file is found by `store check`, and the
            // head, sent with every package and signed back in the hub's receipt, anchors the
            // whole history (`audit verify`). The lines already written are chained here, in order.
            try db.alter(table: "transition") { t in
                t.add(column: "previous_hash", .text)
                t.add(column: "hash", .text)
            }
            try DocumentStore.chainExistingAudit(db)
        }
        migrator.registerMigration("v15: the console's counts and words by index") { db in
            // The overview counts, per state, the documents unmoved since a moment
            // (DocumentStore.unmoved): on `document_state_id` that compared every document of the
            // state (p99 255 ms for 10,000 under load: bench-console); here it is a range of this
            // index, and the count stops at a cap.
            try db.create(index: "document_state_updated", on: "document", columns: ["state", "updated_at"])
            // The outbox search matches a substring of the subject, number or notation: `LIKE
            // '%word%'` read all 10,000 rows' metadata for a word found nowhere (119 ms). A trigram
            // index answers substrings of three or more characters, and folds case beyond ASCII.
            // Keyed by the document table's rowid, which only VACUUM renumbers (a table with a
            // text primary key): the store never vacuums; one that did would have to rebuild this.
            // The triggers keep it in the same transaction as the row; a change of state rewrites
            // the whole row through GRDB, so the update trigger fires only when the text changed.
            try db.execute(sql: """
                CREATE VIRTUAL TABLE document_words USING fts5(subject, number, notation, tokenize = 'trigram');
                INSERT INTO document_words(rowid, subject, number, notation)
                    SELECT rowid, json_extract(metadata, '$.subject'), json_extract(metadata, '$.number'),
                           json_extract(metadata, '$.notation') FROM document;
                CREATE TRIGGER document_words_insert AFTER INSERT ON document BEGIN
                    INSERT INTO document_words(rowid, subject, number, notation) VALUES (new.rowid,
                        json_extract(new.metadata, '$.subject'), json_extract(new.metadata, '$.number'),
                        json_extract(new.metadata, '$.notation'));
                END;
                CREATE TRIGGER document_words_update AFTER UPDATE OF metadata ON document
                WHEN old.metadata IS NOT new.metadata BEGIN
                    DELETE FROM document_words WHERE rowid = old.rowid;
                    INSERT INTO document_words(rowid, subject, number, notation) VALUES (new.rowid,
                        json_extract(new.metadata, '$.subject'), json_extract(new.metadata, '$.number'),
                        json_extract(new.metadata, '$.notation'));
                END;
                CREATE TRIGGER document_words_delete AFTER DELETE ON document BEGIN
                    DELETE FROM document_words WHERE rowid = old.rowid;
                END;
                """)
        }
        return migrator
    }
}

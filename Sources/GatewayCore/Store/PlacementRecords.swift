// Where the leader's signature goes on one document (`metadata.rect`), changed before it is
// signed: the console's signing page, when the leader drags the box (docs/console.md, "Drag to
// move").
import Foundation
import GRDB

extension DocumentStore {
    /// Sets the document's `rect` (x, y, width, height in points from the page's lower left) while
    /// it awaits the leader; the state, its time and the history are left alone (no one acted on
    /// the document, the signature only goes elsewhere).
    package func place(_ id: DocumentID, rect: [Double]) throws {
        try database.write { db in
            guard var record = try DocumentRecord.fetchOne(db, key: id) else { throw SigningStoreError.noDocument(id) }
            guard record.state == .awaitingLeader else { throw SigningStoreError.notBeforeSigning(id, state: record.state) }
            record.metadata.rect = rect
            try record.update(db, columns: [DocumentRecord.Columns.metadata])
        }
    }
}

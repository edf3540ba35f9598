// The console's outbox search: documents by state, words of their number, notation or subject,
// a recipient, and the day they came in, newest first, a page at a time.
import Foundation
import GRDB

package struct DocumentSearch: Sendable, Equatable {
    package var states: [DocumentState] = []
    /// A substring of the number, the notation or the subject, in any case (three characters or
    /// more: the trigram index, whose case folding covers Vietnamese letters; shorter: `LIKE`,
    /// which folds ASCII only).
    package var text: String?
    /// Matched against the recipients' codes.
    package var recipient: String?
    /// `receivedAt` in [from, to).
    package var from: Date?
    package var to: Date?
    /// Older than this document (the next page).
    package var before: DocumentID?
    package var limit = 50

    package init(states: [DocumentState] = [], text: String? = nil, recipient: String? = nil, from: Date? = nil, to: Date? = nil,
                 before: DocumentID? = nil, limit: Int = 50) {
        (self.states, self.text, self.recipient, self.from, self.to, self.before, self.limit) = (states, text, recipient, from, to, before, limit)
    }
}

extension DocumentStore {
    /// Newest first. The walk goes down the primary key and stops at `limit` matches, so a page
    /// of the usual outbox (no words) reads `limit` rows; the state filter uses the
    /// `document_state_id` index; words go through the trigram index `document_words`.
    package func search(_ search: DocumentSearch) throws -> [DocumentRecord] {
        try database.read { db in
            var query = DocumentRecord.all()
            if !search.states.isEmpty { query = query.filter(search.states.contains(DocumentRecord.Columns.state)) }
            if let before = search.before { query = query.filter(DocumentRecord.Columns.id < before) }
            if let from = search.from { query = query.filter(DocumentRecord.Columns.receivedAt >= from) }
            if let to = search.to { query = query.filter(DocumentRecord.Columns.receivedAt < to) }
            if let text = search.text, !text.isEmpty {
                if text.unicodeScalars.count >= 3 {
                    // The trigram index (v15) answers a substring of three characters or more
                    // without reading the rows; as a phrase in quotes, the text is taken literally.
                    let phrase = "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                    query = query.filter(sql: "document.rowid IN (SELECT rowid FROM document_words WHERE document_words MATCH ?)",
                                         arguments: [phrase])
                } else {
                    // Shorter than a trigram: the rows' metadata, read until the page is full.
                    let pattern = "%" + Self.likeEscaped(text) + "%"
                    query = query.filter(sql: """
                        (json_extract(metadata, '$.subject') LIKE ? ESCAPE '\\' OR json_extract(metadata, '$.number') LIKE ? ESCAPE '\\'
                         OR json_extract(metadata, '$.notation') LIKE ? ESCAPE '\\')
                        """, arguments: [pattern, pattern, pattern])
                }
            }
            if let recipient = search.recipient, !recipient.isEmpty {
                query = query.filter(sql: "json_extract(metadata, '$.recipients') LIKE ? ESCAPE '\\'",
                                     arguments: ["%" + Self.likeEscaped(recipient) + "%"])
            }
            return try query.order(DocumentRecord.Columns.id.desc).limit(max(1, min(search.limit, 500))).fetchAll(db)
        }
    }

    static func likeEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }
}

import Foundation
import GRDB
import XCTest
@testable import GatewayCore

/// Migration v15: the console's outbox search through the trigram index `document_words`, kept by
/// triggers, and the overview's bounded counts of documents unmoved in a state.
extension StoreTests {
    /// Inserts `count` copies of `template` with the given metadata changes, in one transaction.
    private func insertCopies(of template: DocumentRecord, count: Int, state: DocumentState, updatedAt: Date,
                              change: @escaping @Sendable (inout DocumentMetadata, Int) -> Void = { _, _ in }) async throws -> [DocumentRecord] {
        let store: DocumentStore = fixture.store
        return try await store.database.write { db in
            try (0..<count).map { index in
                var record = template
                record.id = store.newDocumentID()
                record.state = state
                record.updatedAt = updatedAt
                change(&record.metadata, index)
                try record.insert(db)
                return record
            }
        }
    }

    func testASearchFindsASubstringInAnyCaseThroughTheTrigramIndex() async throws {
        let template = try await fixture.submit([1, 2, 3], signed: true).document
        let subjects = ["Kế hoạch phòng chống lụt bão năm 2027", "Báo cáo KẾT QUẢ thu ngân sách", "Tờ trình \"đặc biệt\" về đất đai"]
        let copies = try await insertCopies(of: template, count: 3, state: .delivered, updatedAt: Date()) { metadata, index in
            metadata.subject = subjects[index]
            metadata.notation = ["KH-UBND", "BC-UBND", "TTr-UBND"][index]
            metadata.number = "\(120 + index)"
        }
        let search = { (text: String) in try self.fixture.store.search(DocumentSearch(text: text)).map(\.id) }
        XCTAssertEqual(try search("kế HOẠCH"), [copies[0].id], "Vietnamese letters fold case through the index")
        XCTAssertEqual(try search("kết quả"), [copies[1].id])
        XCTAssertEqual(try search("TTR-ubnd"), [copies[2].id], "the notation is searched")
        XCTAssertEqual(try search("121"), [copies[1].id], "the number is searched")
        XCTAssertEqual(try search("\"đặc biệt\""), [copies[2].id], "quotes in the words are taken literally")
        XCTAssertEqual(try search("khongcotu"), [])
        XCTAssertEqual(Set(try search("UBND")), Set(copies.map(\.id)))
        // Two characters: below a trigram, the rows are read with LIKE (ASCII case folding).
        XCTAssertEqual(try search("12").count, 3)
        // The search for words that match nothing does not read the documents' rows.
        let plan = try await fixture.store.database.read { db in
            try Row.fetchAll(db, sql: """
                EXPLAIN QUERY PLAN SELECT * FROM document
                WHERE document.rowid IN (SELECT rowid FROM document_words WHERE document_words MATCH '"khongcotu"')
                ORDER BY id DESC LIMIT 50
                """).map { $0["detail"] as String }.joined(separator: " ")
        }
        XCTAssertTrue(plan.contains("VIRTUAL TABLE INDEX"), plan)
    }

    func testTheWordsFollowAChangeOfMetadataButNotOfState() async throws {
        let document = try await fixture.submit([4, 5, 6], signed: true).document
        try await fixture.store.database.write { db in
            var record = try XCTUnwrap(DocumentRecord.fetchOne(db, key: document.id))
            record.metadata.subject = "Quyết định khen thưởng"
            try record.update(db, columns: [DocumentRecord.Columns.metadata])
        }
        XCTAssertEqual(try fixture.store.search(DocumentSearch(text: "khen thưởng")).map(\.id), [document.id])
        try fixture.store.transition(document.id, to: .queued, cause: "test")
        XCTAssertEqual(try fixture.store.search(DocumentSearch(text: "khen thưởng")).map(\.id), [document.id])
        let (words, documents) = try await fixture.store.database.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM document_words") ?? 0, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM document") ?? -1)
        }
        XCTAssertEqual(words, documents, "one row of words per document")
    }

    func testUnmovedDocumentsAreCountedUpToTheCapWithTheOldest() async throws {
        let template = try await fixture.submit([7, 8, 9], signed: true).document
        let now = Date()
        let old = now.addingTimeInterval(-10 * 86400), older = now.addingTimeInterval(-20 * 86400)
        _ = try await insertCopies(of: template, count: 3, state: .awaitingSeal, updatedAt: old)
        _ = try await insertCopies(of: template, count: 2, state: .awaitingSeal, updatedAt: now)
        _ = try await insertCopies(of: template, count: 1, state: .queued, updatedAt: older)
        let seal = try fixture.store.unmoved(in: [.awaitingSeal], before: now.addingTimeInterval(-86400))
        XCTAssertEqual(seal.count, 3)
        XCTAssertEqual(seal.oldest.map { Int($0.timeIntervalSince1970) }, Int(old.timeIntervalSince1970))
        let undelivered = try fixture.store.unmoved(in: [.signed, .queued, .sending, .awaitingSeal], before: now.addingTimeInterval(-86400))
        XCTAssertEqual(undelivered.count, 4)
        XCTAssertEqual(undelivered.oldest.map { Int($0.timeIntervalSince1970) }, Int(older.timeIntervalSince1970))
        XCTAssertEqual(try fixture.store.unmoved(in: [.awaitingLeader], before: now).count, 0)
        // Past the cap the count stops at cap + 1: "more than the cap".
        _ = try await insertCopies(of: template, count: DocumentStore.unmovedCountCap + 10, state: .awaitingLeader, updatedAt: old)
        XCTAssertEqual(try fixture.store.unmoved(in: [.awaitingLeader], before: now).count, DocumentStore.unmovedCountCap + 1)
    }
}

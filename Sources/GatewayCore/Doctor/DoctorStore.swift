// The store's consistency (the read-only part of `gatewayd store check`) and the age of each
// lane's queue, read through a read-only connection: safe while the daemon runs, and it repairs
// nothing (that is `gatewayd store check`'s).
import DocumentModel
import Foundation
import GRDB

package enum DoctorStore {
    package struct Facts: Sendable, Equatable {
        package var integrity: String
        package var auditEntries: Int
        package var auditBroken: AuditChainStatus.Break?
        package var documents: Int
        /// Documents whose content file is missing or of the wrong size: (id, why).
        package var contentProblems: [String]
        package var quarantined: Int
        /// Per lane with something waiting: how many, and since when the oldest has waited.
        package var lanes: [Lane]

        package struct Lane: Sendable, Equatable {
            package var lane: RelayLane
            package var count: Int
            package var oldestQueuedAt: Date
            package init(lane: RelayLane, count: Int, oldestQueuedAt: Date) { (self.lane, self.count, self.oldestQueuedAt) = (lane, count, oldestQueuedAt) }
        }

        package init(integrity: String = "ok", auditEntries: Int = 0, auditBroken: AuditChainStatus.Break? = nil, documents: Int = 0,
                     contentProblems: [String] = [], quarantined: Int = 0, lanes: [Lane] = []) {
            (self.integrity, self.auditEntries, self.auditBroken, self.documents) = (integrity, auditEntries, auditBroken, documents)
            (self.contentProblems, self.quarantined, self.lanes) = (contentProblems, quarantined, lanes)
        }
    }

    package enum Failure: Error, Equatable {
        /// No database yet: a box whose daemon never ran.
        case noStore(String)
        case unreadable(String)
    }

    /// Reads the facts without writing anything: SQLite opened read-only (no migration, no
    /// directory made), each content file only stat'ed (hashing every byte is `store check`'s).
    package static func read(_ layout: StoreLayout) throws(Failure) -> Facts {
        guard FileManager.default.fileExists(atPath: layout.databasePath) else { throw .noStore(layout.databasePath) }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(10)
            let database = try DatabaseQueue(path: layout.databasePath, configuration: configuration)
            return try database.read { db in
                var facts = Facts()
                facts.integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
                let chain = try DocumentStore.verifyAuditChain(db)
                (facts.auditEntries, facts.auditBroken) = (chain.entriesChecked, chain.broken)
                let rows = try Row.fetchCursor(db, sql: "SELECT id, size, state, version FROM document")
                while let row = try rows.next() {
                    facts.documents += 1
                    if (row["state"] as String) == DocumentState.quarantined.rawValue { facts.quarantined += 1; continue }
                    guard let id = DocumentID(row["id"] as String) else { continue }
                    if let problem = DocumentStore.contentProblem(layout, id, version: row["version"], size: row["size"]) {
                        facts.contentProblems.append("\(id): \(problem)")
                    }
                }
                // The same rows as the status's queue figures (RelayRecords.relayQueueSummary).
                for row in try Row.fetchAll(db, sql: """
                    SELECT o.lane, COUNT(*) AS n, MIN(o.queued_at) AS oldest
                    FROM document d JOIN relay_outbound o ON o.document_id = d.id
                    WHERE d.state IN ('queued', 'sending') GROUP BY o.lane ORDER BY o.lane DESC
                    """) {
                    guard let lane = RelayLane(rawValue: row["lane"]) else { continue }
                    facts.lanes.append(.init(lane: lane, count: row["n"], oldestQueuedAt: row["oldest"]))
                }
                return facts
            }
        } catch {
            throw .unreadable("\(error)")
        }
    }

    package static func judgeStore(_ read: Result<Facts, Failure>) -> DoctorCheck {
        let facts: Facts
        switch read {
        case .failure(.noStore(let path)):
            return DoctorCheck("store", .warning, "Chưa có kho văn bản (\(path))", "No document store yet (\(path))",
                               action: "Khởi động gatewayd một lần để tạo kho; kiểm tra data_dir trong cấu hình",
                               "Start gatewayd once to make it; check data_dir in the configuration")
        case .failure(.unreadable(let reason)):
            return DoctorCheck("store", .fail, "Không đọc được kho văn bản: \(reason)", "Cannot read the document store: \(reason)",
                               action: "Dừng gatewayd rồi chạy gatewayd store check", "Stop gatewayd, then run gatewayd store check")
        case .success(let found): facts = found
        }
        var vi: [String] = [], en: [String] = []
        if facts.integrity != "ok" { vi.append("SQLite: \(facts.integrity)"); en.append("SQLite: \(facts.integrity)") }
        if let broken = facts.auditBroken {
            vi.append("chuỗi nhật ký đứt ở dòng \(broken.entry): \(broken.vi)"); en.append("audit chain broken at line \(broken.entry): \(broken.en)")
        }
        if !facts.contentProblems.isEmpty {
            let shown = facts.contentProblems.prefix(3).joined(separator: "; ")
            vi.append("\(facts.contentProblems.count) văn bản hỏng tệp nội dung (\(shown))"); en.append("\(facts.contentProblems.count) document(s) with a bad content file (\(shown))")
        }
        if !vi.isEmpty {
            return DoctorCheck("store", .fail, "Kho văn bản không nhất quán: " + vi.joined(separator: "; "),
                               "The document store is inconsistent: " + en.joined(separator: "; "),
                               action: "Chạy gatewayd store check (cách ly văn bản hỏng, không xóa gì) rồi báo cấp trên",
                               "Run gatewayd store check (quarantines what is damaged, deletes nothing), then tell the hub's operators")
        }
        if facts.quarantined > 0 {
            return DoctorCheck("store", .warning, "Kho nhất quán; \(facts.quarantined) văn bản bị cách ly chờ người xử lý",
                               "The store is consistent; \(facts.quarantined) quarantined document(s) wait for a person",
                               action: "Xem gatewayd queue --state quarantined", "See gatewayd queue --state quarantined")
        }
        return DoctorCheck("store", .ok, "Kho nhất quán: \(facts.documents) văn bản, \(facts.auditEntries) dòng nhật ký",
                           "The store is consistent: \(facts.documents) document(s), \(facts.auditEntries) audit line(s)")
    }

    /// One line per lane. A lane whose oldest document has waited longer than `[upstream]
    /// max_queue_age` is a warning, not a fail: the documents are safe on the box, only late —
    /// the same judgement as the status's (`QueueAgeRule`).
    package static func judgeQueues(_ facts: Facts?, maximumAge: Duration, now: Date) -> [DoctorCheck] {
        RelayLane.allCases.map { lane in
            let id = "queue.\(lane.name)"
            guard let waiting = facts?.lanes.first(where: { $0.lane == lane }) else {
                return DoctorCheck(id, .ok, "Luồng \(lane.vietnameseName): không có văn bản chờ gửi", "Lane \(lane.name): nothing waiting")
            }
            let rule = QueueAgeRule(maximumAge: maximumAge)
            let minutes = Int(now.timeIntervalSince(waiting.oldestQueuedAt) / 60)
            if rule.warning(queuedSince: [waiting.oldestQueuedAt], now: now) != nil {
                let limit = maximumAge.components.seconds / 60
                return DoctorCheck(id, .warning, "Luồng \(lane.vietnameseName): \(waiting.count) văn bản chờ gửi, lâu nhất \(minutes) phút (giới hạn \(limit) phút)",
                                   "Lane \(lane.name): \(waiting.count) document(s) waiting, the oldest for \(minutes) min (limit \(limit) min)",
                                   action: "Kiểm tra kết nối lên cấp trên (mục hub) và gatewayd status",
                                   "Check the link to the hub (the hub lines) and gatewayd status")
            }
            return DoctorCheck(id, .ok, "Luồng \(lane.vietnameseName): \(waiting.count) văn bản chờ gửi, lâu nhất \(minutes) phút",
                               "Lane \(lane.name): \(waiting.count) document(s) waiting, the oldest for \(minutes) min")
        }
    }
}

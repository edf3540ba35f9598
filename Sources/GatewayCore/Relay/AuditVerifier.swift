import DocumentModel
import DocumentSigning
import Foundation
import GRDB
import X509

/// What `gatewayd audit verify` found.
package struct AuditVerifyReport: Sendable, Codable, Equatable {
    /// One receipt that does not vouch for the chain as stored.
    package struct Finding: Sendable, Codable, Equatable {
        /// Which stored receipt: "document <id>" or "status <seq>".
        package var receipt: String
        package var entry: Int64?
        package var vi: String
        package var en: String
    }

    package var chain: AuditChainStatus
    package var receiptsChecked = 0
    package var anchorsChecked = 0
    /// Receipts of an older hub (or kept before the chain existed): valid, but no witness.
    package var receiptsWithoutAnchor = 0
    /// The newest line a hub signed for: the history up to it is what the hub saw.
    package var latestAnchor: AuditAnchor?
    package var findings: [Finding] = []

    package var isClean: Bool { chain.broken == nil && findings.isEmpty }

    enum CodingKeys: String, CodingKey {
        case chain, receiptsChecked = "receipts_checked", anchorsChecked = "anchors_checked"
        case receiptsWithoutAnchor = "receipts_without_anchor", latestAnchor = "latest_anchor", findings
    }
}

/// The audit chain against the hub's signed anchors (docs/architecture.md, "The audit chain").
/// `store check` finds a line changed by hand, because its hash no longer matches; it cannot find
/// a whole chain recomputed after the change, which is consistent again. The anchors can: each
/// stored receipt carries, signed by the hub, the hash the chain had at one line when that
/// package went out, so a rewritten history no longer has that hash at that line.
package enum AuditVerifier {
    /// A receipt as the store keeps it, and when it was kept (its signature is judged at that
    /// time: a hub certificate that expired since still vouched for it then).
    struct StoredReceipt {
        var label: (vi: String, en: String)
        var der: [UInt8]
        var keptAt: Date?
    }

    /// Why the verification could not run at all.
    package struct Unavailable: Error, CustomStringConvertible {
        package var description: String
    }

    /// On the store of `layout`, opened read-only without its lock (WAL lets it read beside a
    /// running daemon, which goes on writing), against the hub CA in `hubCAFile`.
    package static func verify(layout: StoreLayout, hubCAFile: String) async throws -> AuditVerifyReport {
        let roots: [Certificate]
        do { roots = try DocumentVerifier.trustAnchors(pemFile: hubCAFile) } catch {
            throw Unavailable(description: "Không đọc được CA của cấp trên \(hubCAFile) / cannot read the hub CA \(hubCAFile): \(error)")
        }
        var configuration = Configuration()
        configuration.readonly = true
        let database: DatabasePool
        do { database = try DatabasePool(path: layout.databasePath, configuration: configuration) } catch {
            throw Unavailable(description: "Không mở được kho \(layout.databasePath) / cannot open the store \(layout.databasePath): \(error)")
        }
        let chained = try await database.read { db in try db.columns(in: "transition").contains { $0.name == "hash" } }
        guard chained else {
            throw Unavailable(description: "Kho chưa có chuỗi nhật ký (chạy gatewayd một lần để nâng cấp) / "
                              + "the store has no audit chain yet (start gatewayd once to migrate it)")
        }
        return try await verify(database, hubRoots: roots)
    }

    /// Reads through `database` only (a store opened read-only beside a running daemon will do).
    package static func verify(_ database: any DatabaseReader, hubRoots: [Certificate]) async throws -> AuditVerifyReport {
        let (chain, receipts) = try await database.read { db in (try DocumentStore.verifyAuditChain(db), try storedReceipts(db)) }
        var report = AuditVerifyReport(chain: chain)
        for stored in receipts {
            report.receiptsChecked += 1
            func finding(_ entry: Int64?, _ vi: String, _ en: String) {
                report.findings.append(.init(receipt: stored.label.en, entry: entry, vi: "\(stored.label.vi): \(vi)", en: "\(stored.label.en): \(en)"))
            }
            let receipt: RelayReceipt
            do { receipt = try await ReceiptVerifier.signedContent(stored.der, hubRoots: hubRoots, now: stored.keptAt ?? Date()) } catch {
                finding(nil, error.messageVietnamese, error.messageEnglish)
                continue
            }
            guard let anchor = receipt.auditHead else {
                report.receiptsWithoutAnchor += 1
                continue
            }
            report.anchorsChecked += 1
            if anchor.entry > (report.latestAnchor?.entry ?? 0) { report.latestAnchor = anchor }
            let hash = try await database.read { db in
                try String.fetchOne(db, sql: "SELECT hash FROM \"transition\" WHERE seq = ?", arguments: [anchor.entry])
            }
            if hash == nil {
                finding(anchor.entry, "cấp trên đã ký dòng nhật ký \(anchor.entry) nhưng dòng đó không còn trong nhật ký",
                        "the hub signed audit line \(anchor.entry), which is no longer in the trail")
            } else if hash != anchor.sha256 {
                finding(anchor.entry, "mã băm của dòng \(anchor.entry) khác mã cấp trên đã ký: nhật ký đến dòng này đã bị viết lại",
                        "line \(anchor.entry)'s hash differs from the one the hub signed: the history up to it was rewritten")
            }
        }
        return report
    }

    /// Every receipt the relay kept: documents delivered and statuses the clerks sent.
    static func storedReceipts(_ db: Database) throws -> [StoredReceipt] {
        let documents = try Row.fetchAll(db, sql: "SELECT document_id, receipt, delivered_at FROM relay_outbound WHERE receipt IS NOT NULL ORDER BY document_id")
            .map { row in
                StoredReceipt(label: ("văn bản \(row["document_id"] as String)", "document \(row["document_id"] as String)"),
                              der: Array(row["receipt"] as Data), keptAt: row["delivered_at"])
            }
        let statuses = try Row.fetchAll(db, sql: "SELECT seq, receipt, sent_at FROM outgoing_status WHERE receipt IS NOT NULL ORDER BY seq")
            .map { row in
                StoredReceipt(label: ("trạng thái gửi số \(row["seq"] as Int64)", "status \(row["seq"] as Int64)"),
                              der: Array(row["receipt"] as Data), keptAt: row["sent_at"])
            }
        return documents + statuses
    }
}

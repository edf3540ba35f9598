import DocumentModel
import DurableFiles
import Foundation
import GRDB
import Logging

/// The tus uploads in the hub's store (split from HubStore.swift by purpose): created, appended
/// to, finished into a package, expired.
extension HubStore {
    /// A box's unfinished uploads: how many, and the sum of their declared lengths
    /// (`Upload-Length`, what they may still grow to). As a quota, what one box may hold (issue
    /// 16: one box, by mistake or malice, must not fill the hub's disk with uploads it never
    /// finishes, for a week each).
    package struct UploadTotals: Sendable, Equatable {
        package var uploads: Int
        package var bytes: Int64

        package init(uploads: Int, bytes: Int64) { (self.uploads, self.bytes) = (uploads, bytes) }
    }

    /// A new upload would take its box past its quota; what the box holds now.
    package struct UploadQuotaReached: Error {
        package let held: UploadTotals
    }

    /// Throws `UploadQuotaReached` when `quota` is given and the owner's unfinished uploads plus
    /// this one would exceed it (checked in the transaction that inserts the row, so concurrent
    /// creations cannot both slip under the limit).
    package func createUpload(owner: String, length: Int64, metadata: [String: String], at date: Date, quota: UploadTotals? = nil) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let file = try AppendingFile(path: layout.upload(id), create: true)
        try file.finish()
        try POSIXFile.fsyncDirectory(layout.uploads)
        let metadataText = String(decoding: try JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys]), as: UTF8.self)
        do {
            try await database.write { db in
                if let quota {
                    let held = try Self.openUploads(db, owner: owner)
                    guard held.uploads < quota.uploads, held.bytes + length <= quota.bytes else { throw UploadQuotaReached(held: held) }
                }
                try db.execute(sql: "INSERT INTO uploads (id, owner, length, metadata, created_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [id, owner, length, metadataText, HubTime.storage(date)])
            }
        } catch {
            POSIXFile.unlinkIfPresent(layout.upload(id))
            throw error
        }
        return id
    }

    /// The owner's unfinished uploads: neither finished into a package nor refused (expired ones
    /// have no row).
    package func openUploads(owner: String) async throws -> UploadTotals {
        try await database.read { db in try Self.openUploads(db, owner: owner) }
    }

    private static func openUploads(_ db: Database, owner: String) throws -> UploadTotals {
        let row = try Row.fetchOne(db, sql: """
            SELECT COUNT(*) AS uploads, COALESCE(SUM(length), 0) AS bytes FROM uploads
            WHERE owner = ? AND package_id IS NULL AND refusal_code IS NULL
            """, arguments: [owner])
        return UploadTotals(uploads: row?["uploads"] ?? 0, bytes: row?["bytes"] ?? 0)
    }

    /// The upload, if it exists and belongs to `owner` (another box's upload is "not found").
    package func upload(id: String, owner: String) async throws -> Upload {
        guard let upload = try await database.read({ db in
            try Row.fetchOne(db, sql: "SELECT * FROM uploads WHERE id = ? AND owner = ?", arguments: [id, owner]).map { row -> Upload in
                var refusal: HubError?
                if let code: String = row["refusal_code"] {
                    refusal = HubError(HubError.Code(rawValue: code) ?? .internal, row["refusal_vi"] ?? "", row["refusal_en"] ?? "")
                }
                // Checked when the upload was created (`HubServer.auditHead`): what is stored parses.
                let metadata = (row["metadata"] as String?).flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
                let auditHead = metadata?[RelayWire.auditHeadMetadataKey].flatMap(AuditAnchor.init(wire:))
                return Upload(id: row["id"], owner: row["owner"], length: row["length"], packageID: row["package_id"], refusal: refusal,
                              auditHead: auditHead)
            }
        }) else { throw HubError.notFound("tải lên \(id) / upload \(id)") }
        return upload
    }

    /// When an unfinished upload last received bytes: its part file's modification time (each
    /// PATCH appends), so no database write per PATCH is needed to know it.
    package func lastActivity(ofUpload id: String) -> Date? {
        var info = stat()
        guard stat(layout.upload(id), &info) == 0 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
    }

    /// The tus expiration extension: unfinished uploads silent since before `cutoff` are deleted,
    /// bytes and row; finished ones (their receipt or refusal already fetched, or fetchable again by
    /// submitting anew — the package itself is kept) lose their row after the same time. A box that
    /// comes back later finds its upload gone (404) and starts again; nothing it was acknowledged
    /// for is touched.
    package func expireUploads(before cutoff: Date) async throws -> (uploads: Int, bytes: Int64) {
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, created_at, package_id IS NULL AND refusal_code IS NULL AS open FROM uploads").map {
                (id: $0["id"] as String, createdAt: $0["created_at"] as String, open: $0["open"] as Bool)
            }
        }
        let cutoffText = HubTime.storage(cutoff)
        var expired: [String] = [], bytes: Int64 = 0
        for row in rows {
            if row.open {
                // No part file: an upload created and never written, judged by its creation time.
                let last = lastActivity(ofUpload: row.id)
                guard last.map({ $0 < cutoff }) ?? (row.createdAt < cutoffText) else { continue }
                bytes += POSIXFile.size(layout.upload(row.id)) ?? 0
            } else {
                guard row.createdAt < cutoffText else { continue }
            }
            expired.append(row.id)
        }
        guard !expired.isEmpty else { return (0, 0) }
        let doomed = expired
        // Row first, then the file: a crash in between leaves a file without a row, which nothing
        // reads (and the next pass does not see); never a row whose bytes were deleted under it.
        try await database.write { db in
            for id in doomed { try db.execute(sql: "DELETE FROM uploads WHERE id = ?", arguments: [id]) }
        }
        for id in expired { POSIXFile.unlinkIfPresent(layout.upload(id)) }
        return (expired.count, bytes)
    }

    package func finishUpload(id: String, packageID: Int64?, refusal: HubError?) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE uploads SET package_id = ?, refusal_code = ?, refusal_vi = ?, refusal_en = ? WHERE id = ?",
                           arguments: [packageID, refusal?.code.rawValue, refusal?.vi, refusal?.en, id])
        }
    }
}

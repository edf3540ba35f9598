// Sao lưu / Backups in the console: the quản trị's alone; the page lists what the schedule took,
// newest first, and the newest is streamed as a download (and audited).
@testable import Console
import Foundation
import GatewayCore
import XCTest

extension ConsoleAdminTests {
    func testTheNewestBackupIsTheAdministratorsToDownload() async throws {
        let shelf = BackupShelf(dataDirectory: directory)
        try await withConsole { rig in
            var (admin, clerk) = try await Self.people(rig)
            for path in ["/admin/backups", "/admin/backups/newest"] {
                let got = try await clerk.get(path).status
                XCTAssertEqual(got, .forbidden, path)
            }
            let empty = try await admin.get("/admin/backups")
            XCTAssertEqual(empty.status, .ok)
            XCTAssertTrue(empty.body.contains("Chưa có bản sao lưu nào"), empty.body)
            let none = try await admin.get("/admin/backups/newest").status
            XCTAssertEqual(none, .notFound)

            try FileManager.default.createDirectory(atPath: shelf.directory, withIntermediateDirectories: true)
            let older = BackupShelf.name(for: rig.base.clock.now), newer = BackupShelf.name(for: rig.base.clock.now + 86400)
            try Data("bản cũ".utf8).write(to: URL(fileURLWithPath: shelf.directory + "/" + older))
            try Data("bản mới nhất".utf8).write(to: URL(fileURLWithPath: shelf.directory + "/" + newer))
            try Data("không phải bản sao lưu".utf8).write(to: URL(fileURLWithPath: shelf.directory + "/notes.txt"))
            let page = try await admin.get("/admin/backups").body
            XCTAssertTrue(page.contains("href=\"/admin/backups/newest\""), page)
            let first = try XCTUnwrap(page.range(of: newer)), second = try XCTUnwrap(page.range(of: older))
            XCTAssertLessThan(first.lowerBound, second.lowerBound, "newest first")
            XCTAssertFalse(page.contains("notes.txt"))
            let download = try await admin.get("/admin/backups/newest")
            XCTAssertEqual(download.status, .ok)
            XCTAssertEqual(download.body, "bản mới nhất")
            let audited = try rig.base.accounts.auditEntries().filter { $0.action == "backup_download" }
            XCTAssertEqual(audited.map(\.subject), [newer])
            let index = try await admin.get("/admin").body
            XCTAssertTrue(index.contains("href=\"/admin/backups\""), index)
        }
    }
}

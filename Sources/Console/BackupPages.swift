// Sao lưu / Backups (docs/backup.md, "Scheduled backups off the box"): the backups the daemon
// took on its schedule (`[backup] every`, in <data_dir>/backups), and the newest for download —
// a dead box cannot give its own backup, so a technician takes it off the box while it lives.
// The quản trị's alone: a backup holds every document of the commune. Each download is audited.
import Foundation
import GatewayCore
import Hummingbird

extension ConsoleServer {
    func addBackupRoutes(_ router: Router<ConsoleContext>) {
        route(router, .get, "/admin/backups", .session(.quanTri)) { try self.backupsPage($0) }
        route(router, .get, "/admin/backups/newest", .session(.quanTri), newestBackup)
    }

    var backupShelf: BackupShelf? {
        (documents?.store ?? signing?.store).map { BackupShelf(dataDirectory: $0.layout.dataDirectory) }
    }

    func backupsPage(_ visit: Visit) throws -> Response {
        func w(_ vi: String, _ en: String) -> String { Self.word(visit, vi, en) }
        let entries = backupShelf?.list() ?? []
        let rows = entries.map { entry -> HTML in
            "<tr><td><code>\(entry.name)</code></td><td>\(Self.time(entry.takenAt))</td><td>\(ByteCountText.format(entry.bytes))</td></tr>"
        }
        let newest: HTML = entries.isEmpty
            ? "<p><em>\(w("Chưa có bản sao lưu nào. Đặt [backup] every trong cấu hình để hộp tự sao lưu.", "No backup yet. Set [backup] every in the configuration for the box to take them."))</em></p>"
            : "<p><a href=\"/admin/backups/newest\" download>\(w("Tải bản mới nhất", "Download the newest"))</a> (\(ByteCountText.format(entries[0].bytes)))</p>"
        let body: HTML = """
            <p>\(w("Hộp tự sao lưu theo lịch vào thư mục dữ liệu, và chép bản mới nhất ra USB có nhãn dành riêng khi được cắm. Bản sao lưu chứa mọi văn bản, không chứa khóa bí mật; cất giữ cẩn thận.",
                   "The box backs itself up on a schedule into its data directory, and copies the newest to the stick labelled for it when one is plugged in. A backup holds every document, not the private keys; keep it safe."))</p>
            \(newest)
            <table><tr><th>\(w("Tệp", "File"))</th><th>\(w("Lúc", "Taken"))</th><th>\(w("Dung lượng", "Size"))</th></tr>\(HTML.join(rows))</table>
            """
        return Self.page(Layout.page(title: w("Sao lưu", "Backups"), body, visit.page))
    }

    /// The newest backup, streamed from disk (it may be gigabytes), as a download.
    func newestBackup(_ visit: Visit) async throws -> Response {
        guard let newest = backupShelf?.newest else { return refusal(.notFound, .notFound, visit) }
        try audit(visit, "backup_download", subject: newest.name, detail: "\(newest.bytes) bytes")
        logger.notice("console: backup downloaded", metadata: ["file": "\(newest.name)", "by": "\(visit.page.viewer?.user.login ?? "?")"])
        return try Self.file(path: newest.path, name: newest.name, inline: false)
    }
}

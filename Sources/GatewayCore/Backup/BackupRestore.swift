import DurableFiles
import Foundation

/// What a restore did and what the technician does next.
package struct RestoreSummary: Sendable {
    package var description: BackupDescription
    package var filesRestored: Int
    package var keysRestored: Bool
    /// Where what stood in the target before was moved (never deleted), if anything.
    package var replacedDirectory: String?
    /// Lines for the technician, each "Vietnamese / English".
    package var nextSteps: [String]
}

/// Puts a backup onto a data directory (docs/backup.md, "Restoring").
///
/// The whole file is verified first (`BackupReader.verify`): a damaged or truncated backup, or a
/// wrong passphrase, is refused before anything is written. Then everything is extracted under
/// `<dir>/.restore-<random>/` (checked again against the manifest while it is written, each file
/// fsynced) and only then renamed into place; what stood in the way is moved to
/// `<dir>/replaced-<time>/`, never deleted. A store is replaced only with `force`.
package enum BackupRestore {
    /// Names at the top of a data directory that a restore replaces (the store and its companions).
    static let storeNames = ["gateway.sqlite", "gateway.sqlite-wal", "gateway.sqlite-shm", "store", BackupFormat.restoredMarkerName]

    package static func restore(path: String, dataDirectory: String, force: Bool, passphrase: String?,
                                now: Date = Date()) throws -> RestoreSummary {
        let verified = try BackupReader.verify(path: path, passphrase: passphrase)
        let layout = StoreLayout(dataDirectory: BackupContents.absolute(dataDirectory))
        let target = layout.dataDirectory
        if !force, holdsStore(layout) { throw BackupFailure.targetNotEmpty(target) }
        let lock: StoreLock
        do { lock = try StoreLock(layout: layout) } catch {
            if case .heldByAnotherProcess = error { throw BackupFailure.targetInUse(target) }
            throw BackupFailure.io(error.description)
        }
        defer { withExtendedLifetime(lock) {} }

        let staging = target + "/.restore-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try POSIXFile.makeDirectory(staging, mode: 0o700)
        var directories: Set<String> = [staging]
        func stagedPath(_ name: String) -> String {
            name.hasPrefix(BackupFormat.dataPrefix)
                ? staging + "/data/" + name.dropFirst(BackupFormat.dataPrefix.count)
                : staging + "/restored-files/" + name.dropFirst(BackupFormat.outsidePrefix.count)
        }
        func create(_ path: String, mode: mode_t) throws -> Int32 {
            let directory = (path as NSString).deletingLastPathComponent
            if directories.insert(directory).inserted { try POSIXFile.makeDirectory(directory) }
            return try POSIXFile.createExclusive(path, mode: mode)
        }
        var files = 0
        // The console's certificates are worth restoring only with their keys: without them the
        // daemon makes a new CA anyway, and this box's own (from its first boot) must stay.
        let consolePrefix = BackupFormat.dataPrefix + "console/"
        _ = try BackupReader.scan(path: path, keys: { _ in }, file: { name, size, reader in
            if verified.keys == nil, name.hasPrefix(consolePrefix) { return try reader.content(size: size) { _ in } }
            let destination = stagedPath(name)
            let fd = try create(destination, mode: 0o640)
            defer { close(fd) }
            let sha256 = try reader.content(size: size) { chunk in
                try chunk.withUnsafeBytes { try POSIXFile.writeAll(fd, $0, path: destination) }
            }
            try POSIXFile.fsyncFile(fd, path: destination)
            files += 1
            return sha256
        })
        var keysRestored = false
        if let keys = verified.keys {
            for key in keys {
                let name = BackupContents.entryName(for: key.path, dataDirectory: verified.description.dataDirectory)
                let destination = stagedPath(name)
                let fd = try create(destination, mode: 0o600)
                defer { close(fd) }
                try POSIXFile.writeAll(fd, Array(key.content), path: destination)
                try POSIXFile.fsyncFile(fd, path: destination)
            }
            keysRestored = true
        }
        for directory in directories.sorted(by: { $0.count > $1.count }) { try POSIXFile.fsyncDirectory(directory) }

        // Into place: what the backup brings, and the store's names whatever it brings.
        var incoming = (try? FileManager.default.contentsOfDirectory(atPath: staging + "/data")) ?? []
        if FileManager.default.fileExists(atPath: staging + "/restored-files") { incoming.append("../restored-files") }
        let stamp = ISO8601DateFormatter().string(from: now).replacingOccurrences(of: ":", with: "")
        let aside = target + "/replaced-" + stamp
        var movedAside = false
        let inTheWay = Set(storeNames + incoming.map { ($0 as NSString).lastPathComponent })
        for name in inTheWay.sorted() where FileManager.default.fileExists(atPath: target + "/" + name) {
            if !movedAside { try POSIXFile.makeDirectory(aside, mode: 0o700) }
            movedAside = true
            try POSIXFile.rename(target + "/" + name, aside + "/" + name)
        }
        for name in incoming.sorted() {
            try POSIXFile.rename(staging + "/data/" + name, target + "/" + (name as NSString).lastPathComponent)
        }
        try POSIXFile.fsyncDirectory(target)
        if movedAside { try POSIXFile.fsyncDirectory(aside) }

        let marker = RestoredFromMarker(backupStartedAt: verified.description.startedAt, boxAgency: verified.description.agencyCode,
                                        restoredAt: now, backupFile: BackupContents.absolute(path), keysRestored: keysRestored)
        try POSIXFile.replaceWhole(target + "/" + BackupFormat.restoredMarkerName,
                                   with: Array(try BackupFormat.encoder().encode(marker)), mode: 0o640)
        return RestoreSummary(description: verified.description, filesRestored: files, keysRestored: keysRestored,
                              replacedDirectory: movedAside ? aside : nil,
                              nextSteps: nextSteps(verified, target: target, keysRestored: keysRestored))
    }

    /// A database, or any content in the store's directories.
    static func holdsStore(_ layout: StoreLayout) -> Bool {
        let manager = FileManager.default
        if manager.fileExists(atPath: layout.databasePath) { return true }
        return [layout.objectsDirectory, layout.packagesDirectory, layout.inboxDirectory].contains { directory in
            !((try? manager.contentsOfDirectory(atPath: directory)) ?? []).isEmpty
        }
    }

    private static func nextSteps(_ verified: VerifiedBackup, target: String, keysRestored: Bool) -> [String] {
        let description = verified.description
        var steps: [String] = []
        if let configuration = description.configurationFile {
            let copy = target + "/restored-files" + BackupContents.absolute(configuration)
            steps.append("Cấu hình của hộp cũ ở \(copy): so sánh với \(configuration) của hộp này trước khi khởi động / "
                         + "The old box's configuration is in \(copy): compare it with this box's \(configuration) before starting")
        }
        if keysRestored {
            steps.append("Khóa riêng đã được khôi phục (quyền 0600); khóa nằm ngoài thư mục dữ liệu ở \(target)/restored-files/ / "
                         + "The private keys were restored (mode 0600); those from outside the data directory are under \(target)/restored-files/")
        } else {
            steps.append(description.keysIncluded
                ? "Bản sao lưu có khóa nhưng không có mật khẩu nên chưa khôi phục: chạy lại với --passphrase-file, hoặc đăng ký lại hộp (gatewayd enroll --token …) / "
                    + "The backup holds keys but no passphrase was given, so they were not restored: run again with --passphrase-file, or re-enrol the box (gatewayd enroll --token …)"
                : "Bản sao lưu không có khóa của hộp: đăng ký lại hộp với trung tâm (gatewayd enroll --token …) để có chứng thư số mới / "
                    + "The backup holds no keys: re-enrol the box with the hub (gatewayd enroll --token …) for a new certificate")
        }
        let since = ISO8601DateFormatter().string(from: description.startedAt)
        steps.append("Khởi động gatewayd: hộp đề nghị trung tâm gửi lại văn bản đến từ \(since) (\(BackupFormat.restoredMarkerName)) / "
                     + "Start gatewayd: the box asks the hub to deliver again what arrived since \(since) (\(BackupFormat.restoredMarkerName))")
        steps.append("Kiểm tra kho: gatewayd store check / Check the store: gatewayd store check")
        if geteuid() == 0 {
            steps.append("Đã khôi phục với quyền root: chuyển quyền sở hữu \(target) cho người dùng của dịch vụ (chown -R) / "
                         + "Restored as root: give \(target) to the service's user (chown -R)")
        }
        return steps
    }
}

import DurableFiles
import Foundation
import GRDB

/// What a finished backup holds.
package struct BackupSummary: Sendable, Codable, Equatable {
    package var description: BackupDescription
    /// Files in the backup (the database, documents, packages, configuration, certificates; not the keys).
    package var files: Int
    /// Size of the backup file.
    package var bytes: Int64
    /// Files the snapshot names that were not on disk (a quarantined document's missing content).
    package var missing: [String]
}

/// Takes a backup of a running (or stopped) box as one file (BackupFormat), in constant memory.
///
/// The database is copied with SQLite's online backup API over a connection of its own, so it
/// works inside the daemon and beside it alike and never stops intake: the copy is one read
/// transaction, a consistent snapshot, while writers go on in the WAL. The files copied are the
/// ones that snapshot names. A document's content is renamed into `objects/` before its row is
/// committed and never rewritten (a signature makes a new version beside it), so every file the
/// snapshot names is on disk and is what the snapshot describes.
package enum BackupWriter {
    /// Writes the backup to `path` through a temporary name (fsync, rename, directory fsync),
    /// mode 0600: it holds every document of the commune.
    package static func write(configuration: GatewayConfiguration, configurationFile: String?, includeKeys passphrase: String?,
                              toFile path: String) throws -> BackupSummary {
        let temporary = path + ".part"
        POSIXFile.unlinkIfPresent(temporary)
        let fd = try POSIXFile.createExclusive(temporary, mode: 0o600)
        do {
            var output = FileDescriptorOutput(fd: fd, name: temporary)
            var summary = try write(configuration: configuration, configurationFile: configurationFile, includeKeys: passphrase, to: &output)
            try POSIXFile.fsyncFile(fd, path: temporary)
            close(fd)
            try POSIXFile.rename(temporary, path)
            let directory = (path as NSString).deletingLastPathComponent
            try POSIXFile.fsyncDirectory(directory.isEmpty ? "." : directory)
            summary.bytes = POSIXFile.size(path) ?? summary.bytes
            return summary
        } catch {
            close(fd)
            POSIXFile.unlinkIfPresent(temporary)
            throw error
        }
    }

    /// Writes the backup to `output` (a file, a pipe, an HTTP body). Blocking: run it on a thread
    /// that may wait for the disk.
    package static func write(configuration: GatewayConfiguration, configurationFile: String?, includeKeys passphrase: String?,
                              to output: inout some BackupOutput) throws -> BackupSummary {
        if let passphrase { try BackupKeys.checkPassphrase(passphrase) }
        let layout = configuration.layout
        guard FileManager.default.fileExists(atPath: layout.databasePath) else {
            throw BackupFailure.io("no store at \(layout.databasePath)")
        }
        let snapshotPath = layout.temporaryDirectory + "/backup-\(UUID().uuidString).sqlite"
        try POSIXFile.makeDirectory(layout.temporaryDirectory)
        defer { for suffix in ["", "-wal", "-shm", "-journal"] { POSIXFile.unlinkIfPresent(snapshotPath + suffix) } }
        // Whole seconds, rounded down: backup.json keeps seconds, and "acknowledged since the
        // backup" must never start after the snapshot did.
        let startedAt = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        try snapshot(layout.databasePath, to: snapshotPath)
        let referenced = try BackupContents.referencedFiles(snapshot: snapshotPath, layout: layout)

        let description = BackupDescription(
            startedAt: startedAt, agencyCode: configuration.agency.code?.description, agencyName: configuration.agency.name,
            hostName: ProcessInfo.processInfo.hostName, dataDirectory: layout.dataDirectory,
            configurationFile: configurationFile, documents: referenced.documents, keysIncluded: passphrase != nil)
        var tar = TarWriter(output: output, modificationTime: startedAt)
        try tar.add(name: BackupFormat.descriptionName, bytes: Array(try BackupFormat.encoder().encode(description)))
        try tar.add(name: BackupFormat.dataPrefix + "gateway.sqlite", file: snapshotPath)
        var missing: [String] = []
        for path in referenced.files + BackupContents.extraFiles(configuration: configuration, configurationFile: configurationFile) {
            // Only a file the snapshot names but that is not there (quarantined for that reason) is skipped.
            guard FileManager.default.fileExists(atPath: path) else {
                missing.append(path)
                continue
            }
            try tar.add(name: BackupContents.entryName(for: path, dataDirectory: layout.dataDirectory), file: path)
        }
        if let passphrase {
            let keys = try BackupKeys.files(configuration: configuration).map { path in
                BackupKeys.KeyFile(path: path, mode: 0o600, content: try Data(contentsOf: URL(fileURLWithPath: path)))
            }
            try tar.add(name: BackupFormat.keysName, bytes: try BackupKeys.seal(keys, passphrase: passphrase), mode: 0o600)
        }
        let files = tar.entries.filter { $0.name.hasPrefix(BackupFormat.dataPrefix) || $0.name.hasPrefix(BackupFormat.outsidePrefix) }.count
        try tar.finish()
        output = tar.output
        return BackupSummary(description: description, files: files, bytes: tar.bytesWritten, missing: missing)
    }

    /// SQLite's online backup of the store's database into `target`, over a connection of its
    /// own that only reads (and needs no lock the daemon holds). Not opened read-only: on a
    /// stopped store a read-only connection would leave the `-wal` and `-shm` it had to create
    /// behind (owned by whoever ran the backup); a read-write one removes them as it closes.
    static func snapshot(_ databasePath: String, to target: String) throws {
        var configuration = Configuration()
        configuration.label = "gateway.backup"
        configuration.busyMode = .timeout(10)
        let source = try DatabaseQueue(path: databasePath, configuration: configuration)
        let destination = try DatabaseQueue(path: target)
        try source.backup(to: destination)
        // The copy says WAL like its source: fold any WAL back so the one file is the whole database.
        try destination.writeWithoutTransaction { db in _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try destination.close()
        try source.close()
    }
}

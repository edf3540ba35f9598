import DocumentModel
import DurableFiles
import Foundation
import Logging
import ServiceLifecycle

/// `[backup] every`: a backup of the running box (`BackupWriter`, as `gatewayd backup`) into
/// `<data_dir>/backups/` at that interval, the `keep` newest kept; and off the box, since a dead
/// box cannot take its own: the newest copied to the stick mounted at `usb_mount` after each
/// backup and whenever a stick is plugged in (`MountWatcher`: no polling), the `keep` newest
/// kept there too. The console offers the newest for download (Console/BackupPages.swift).
/// The interval counts from the newest backup on the shelf, so a restart does not take one at once.
package struct ScheduledBackups: Service {
    let configuration: GatewayConfiguration
    let configurationFile: String?
    let logger: Logger
    let shelf: BackupShelf
    /// The stick's shelf, when one is configured; `isMounted` tells whether it is there.
    let stick: BackupShelf?
    let isMounted: @Sendable (String) -> Bool
    let now: @Sendable () -> Date

    package init(configuration: GatewayConfiguration, configurationFile: String?, logger: Logger,
                 isMounted: @escaping @Sendable (String) -> Bool = BackupShelf.isMountPoint, now: @escaping @Sendable () -> Date = { Date() }) {
        (self.configuration, self.configurationFile, self.logger, self.isMounted, self.now) = (configuration, configurationFile, logger, isMounted, now)
        shelf = BackupShelf(dataDirectory: configuration.dataDirectory)
        stick = configuration.backup.usbMount.isEmpty ? nil : BackupShelf(directory: configuration.backup.usbMount)
    }

    /// The service when `[backup] every` is set; none otherwise.
    package static func services(configuration: GatewayConfiguration, configurationFile: String?, logger: Logger) -> [any Service] {
        configuration.backup.every == nil ? [] : [ScheduledBackups(configuration: configuration, configurationFile: configurationFile, logger: logger)]
    }

    package func run() async {
        guard let every = configuration.backup.every else { return }
        let watcher = stick == nil ? nil : MountWatcher()
        defer { watcher?.stop() }
        await cancelWhenGracefulShutdown {
            var stickThere = false
            // A failed backup is tried again after an hour, not at once: the interval counts from
            // the newest backup on the shelf, and a failure leaves none (a full disk must not spin).
            var failedAt: Date?
            while !Task.isCancelled {
                let seen = watcher?.signal.generation ?? 0
                // A stick that appeared (or was there at start) gets the newest at once.
                let there = stick.map { isMounted($0.directory) } ?? false
                if there && !stickThere { await offload() }
                stickThere = there
                let due = max((shelf.newest?.takenAt ?? .distantPast).addingTimeInterval(QueueAgeRule.seconds(every)),
                              (failedAt ?? .distantPast).addingTimeInterval(3600))
                let wait = due.timeIntervalSince(now())
                if wait <= 0 {
                    failedAt = await backUp() ? nil : now()
                    continue
                }
                let deadline = ContinuousClock.now + .milliseconds(Int64(min(wait, 366 * 86400) * 1000))
                if let watcher { await watcher.signal.wait(after: seen, until: deadline) } else { try? await Task.sleep(until: deadline) }
            }
        }
    }

    /// One backup now, the old ones pruned, the newest copied to the stick if it is there.
    /// False (and logged) when it failed.
    @discardableResult
    package func backUp() async -> Bool {
        let started = now()
        let path = shelf.directory + "/" + BackupShelf.name(for: started)
        let (configuration, configurationFile, shelf, keep) = (self.configuration, self.configurationFile, self.shelf, self.configuration.backup.keep)
        do {
            // Blocking work (SQLite's backup, reading every file): on a thread of its own.
            let summary = try await Task.detached(priority: .background) { () throws -> BackupSummary in
                try POSIXFile.makeDirectory(shelf.directory, mode: 0o700)
                return try BackupWriter.write(configuration: configuration, configurationFile: configurationFile, includeKeys: nil, toFile: path)
            }.value
            let pruned = shelf.prune(keep: keep)
            logger.notice("scheduled backup taken", metadata: [
                "file": "\(path)", "bytes": "\(summary.bytes)", "seconds": "\(Int(now().timeIntervalSince(started)))", "pruned": "\(pruned.count)"])
        } catch {
            POSIXFile.unlinkIfPresent(path + ".part")
            logger.error("scheduled backup failed", metadata: ["file": "\(path)", "error": "\(error)"])
            return false
        }
        await offload()
        return true
    }

    /// The newest backup onto the stick, if it is mounted and lacks it; its old ones pruned.
    package func offload() async {
        guard let stick, isMounted(stick.directory), let newest = shelf.newest else { return }
        guard !stick.list().contains(where: { $0.name == newest.name && $0.bytes == newest.bytes }) else { return }
        let keep = configuration.backup.keep
        do {
            try await Task.detached(priority: .background) { try stick.copy(newest) }.value
            let pruned = stick.prune(keep: keep)
            logger.notice("backup copied to the USB stick", metadata: ["file": "\(stick.directory)/\(newest.name)", "bytes": "\(newest.bytes)",
                                                                      "pruned": "\(pruned.count)"])
        } catch {
            logger.error("could not copy the backup to the USB stick", metadata: ["stick": "\(stick.directory)", "error": "\(error)"])
        }
    }
}

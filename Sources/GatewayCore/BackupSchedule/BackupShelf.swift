import DurableFiles
import Foundation

/// The backups `ScheduledBackups` keeps in a directory (`<data_dir>/backups`, or the stick):
/// named `gateway-YYYYMMDD-HHMMSS.backup` (UTC, when taken), so the newest is the last by name.
/// Only files of that name are listed, counted and pruned: whatever else a technician keeps on
/// the stick is never touched.
package struct BackupShelf: Sendable {
    package struct Entry: Sendable, Equatable {
        package var name: String
        package var path: String
        package var bytes: Int64
        package var takenAt: Date
    }

    package let directory: String

    package init(directory: String) { self.directory = directory }

    /// The box's own shelf, in its data directory.
    package init(dataDirectory: String) { directory = dataDirectory + "/backups" }

    static let prefix = "gateway-", suffix = ".backup"

    static var utc: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }

    package static func name(for date: Date) -> String {
        let c = utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return prefix + String(format: "%04d%02d%02d-%02d%02d%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!) + suffix
    }

    static func takenAt(_ name: String) -> Date? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let stamp = Array(name.dropFirst(prefix.count).dropLast(suffix.count))
        guard stamp.count == 15, stamp[8] == "-" else { return nil }
        func number(_ range: Range<Int>) -> Int? { Int(String(stamp[range])) }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
              let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15) else { return nil }
        return utc.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
    }

    /// Newest first.
    package func list() -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> Entry? in
            guard let taken = Self.takenAt(name), let size = POSIXFile.size(directory + "/" + name) else { return nil }
            return Entry(name: name, path: directory + "/" + name, bytes: size, takenAt: taken)
        }.sorted { $0.name > $1.name }
    }

    package var newest: Entry? { list().first }

    /// Removes all but the `keep` newest; returns the names removed.
    @discardableResult
    package func prune(keep: Int) -> [String] {
        let old = list().dropFirst(keep)
        for entry in old { POSIXFile.unlinkIfPresent(entry.path) }
        if !old.isEmpty { try? POSIXFile.fsyncDirectory(directory) }
        return old.map(\.name)
    }

    /// Copies `entry` here under its name: written beside as `.part`, fsynced, renamed, the
    /// directory fsynced — a stick pulled out mid-copy leaves a `.part`, never a short backup
    /// under a backup's name. Blocking.
    package func copy(_ entry: Entry) throws {
        let destination = directory + "/" + entry.name, temporary = destination + ".part"
        POSIXFile.unlinkIfPresent(temporary)
        let input = open(entry.path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw SystemCallError(call: "open", path: entry.path, errno: errno) }
        defer { close(input) }
        let output = try POSIXFile.createExclusive(temporary, mode: 0o600)
        do {
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if count < 0 { throw SystemCallError(call: "read", path: entry.path, errno: errno) }
                if count == 0 { break }
                try buffer.withUnsafeBytes { try POSIXFile.writeAll(output, UnsafeRawBufferPointer(rebasing: $0.prefix(count)), path: temporary) }
            }
            try POSIXFile.fsyncFile(output, path: temporary)
            close(output)
        } catch {
            close(output)
            POSIXFile.unlinkIfPresent(temporary)
            throw error
        }
        try POSIXFile.rename(temporary, destination)
        try POSIXFile.fsyncDirectory(directory)
    }

    /// A file system of its own is mounted at `path` (its device differs from its parent's):
    /// the stick is there, not just the empty directory it is mounted on.
    package static func isMountPoint(_ path: String) -> Bool {
        var here = stat(), parent = stat()
        guard stat(path, &here) == 0, stat(path + "/..", &parent) == 0 else { return false }
        return here.st_dev != parent.st_dev
    }
}

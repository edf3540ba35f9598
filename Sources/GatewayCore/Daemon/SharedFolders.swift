import DurableFiles
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The groups the daemon gives what others reach (issue 16: one group used to cover the data,
/// the share, the socket and the tokens). `[share] group` is the Samba users' group: the hot
/// folder, its `rejected/` and the inbox folder, when the daemon makes them, are that group's
/// with mode 2770 — setgid, so what a Samba user or the daemon creates inside keeps the group,
/// and clerks never need the daemon's own group (which reaches the store).
enum SharedFolders {
    /// The shared folders, made when missing and given `group`: `hotFolder` and its `rejected/`
    /// (nil when the hot folder is off), `inboxFolder` (nil without a relay). A `rejected/` that
    /// cannot be prepared (a link a share user put in its place) is logged; intake goes on, as
    /// `HotFolderIntake` does.
    static func prepare(hotFolder: String?, inboxFolder: String?, group: gid_t, logger: Logger) throws {
        for path in [hotFolder, inboxFolder].compactMap({ $0 }) {
            try POSIXFile.makeDirectory(path, mode: 0o770)
            let folder = try POSIXFile.openDirectory(path)
            defer { close(folder) }
            try adopt(folder, group: group, path: path)
            guard path == hotFolder else { continue }
            let rejected = Array("rejected".utf8)
            do {
                if POSIXFile.entry(at: folder, rejected) == nil { try POSIXFile.makeDirectory(at: folder, rejected, mode: 0o770) }
                // Entered without following a link: a planted one is refused, its target untouched.
                let inner = try POSIXFile.openDirectory(at: folder, rejected)
                defer { close(inner) }
                try adopt(inner, group: group, path: path + "/rejected")
            } catch {
                logger.error("rejected/ could not be given the share's group", metadata: ["folder": "\(path)", "error": "\(error)"])
            }
        }
    }

    /// The share's group and mode 2770 for a directory the daemon owns (one it made, now or at an
    /// earlier start); one the administrator made and owns is left as it was set.
    static func adopt(_ directory: Int32, group: gid_t, path: String) throws(SystemCallError) {
        var info = stat()
        try POSIXFile.check(fstat(directory, &info), "fstat", path)
        guard info.st_uid == getuid() else { return }
        if info.st_gid != group { try POSIXFile.check(fchown(directory, uid_t.max, group), "fchown", path) }
        if info.st_mode & 0o7777 != 0o2770 { try POSIXFile.check(fchmod(directory, 0o2770), "fchmod", path) }
    }
}

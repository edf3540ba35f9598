// Puts managed files in place under a root: each written whole (temporary, fsync, rename, fsync
// of the directory) and only when its bytes, mode or owner differ — a box's flash sees no write
// on the boots where gateway.toml did not change.
import DurableFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct ManagedFileWriter {
    /// `/` on the box; a temporary directory in the tests.
    let root: String
    /// The data directory as the box names it, for `.dataDirectory` owners.
    let dataDirectory: String
    /// Owners can be given only by root; otherwise they are neither set nor compared.
    let setsOwners = geteuid() == 0

    /// A path on the box as it is under `root`.
    func rooted(_ path: String) -> String { root == "/" ? path : (root.hasSuffix("/") ? String(root.dropLast()) : root) + path }

    /// Applies `files` in order, adding to `changed` the box paths written, removed or fixed
    /// (those before a failure too: the report must not say "no change" when some were made).
    func apply(_ files: [ManagedFile], changed: inout [String]) throws {
        for file in files where try place(file, at: rooted(file.path)) { changed.append(file.path) }
    }

    /// Writes, removes or fixes the mode of one file at `fullPath` when it differs; true when it did.
    func place(_ file: ManagedFile, at fullPath: String) throws -> Bool {
        var info = stat()
        let exists = lstat(fullPath, &info) == 0
        let directory = (fullPath as NSString).deletingLastPathComponent
        let name = Array((fullPath as NSString).lastPathComponent.utf8)
        guard let contents = file.contents else {
            guard exists else { return false }
            try POSIXFile.check(unlink(fullPath), "unlink", fullPath)
            try POSIXFile.fsyncDirectory(directory)
            return true
        }
        let owner = self.owner(file.owner)
        let isRegular = exists && (info.st_mode & S_IFMT) == S_IFREG
        let metadataRight = file.owner == .unmanaged || ((info.st_mode & 0o7777) == file.mode && (owner.map { $0 == (info.st_uid, info.st_gid) } ?? true))
        if isRegular, FileManager.default.contents(atPath: fullPath).map(Array.init) == contents {
            if metadataRight { return false }
            try setMetadata(fullPath, file, owner)
            return true
        }
        if !FileManager.default.fileExists(atPath: directory) {
            // A secret's directory is closed too (ksmbd's user database on the data partition).
            try POSIXFile.makeDirectory(directory, mode: file.owner == .dataDirectory || file.mode & 0o077 == 0 ? 0o700 : 0o755)
        }
        let fd = try POSIXFile.openDirectory(directory)
        defer { close(fd) }
        try POSIXFile.replaceFile(at: fd, name, temporary: Array(".".utf8) + name + Array(".tmp".utf8), contents: contents, mode: file.mode)
        if file.owner != .unmanaged { try setMetadata(fullPath, file, owner) }
        return true
    }

    /// Moves `boxPath` aside when it is not a directory of root's secrets as firstboot makes them
    /// (a directory, not a link, mode 0700, and root's when owners are managed); returns where it
    /// went, nil when it was right or absent. Such a directory sits on the data partition, in
    /// root's `system/` (DataLayout); before that layout it was in the daemon's top directory,
    /// where a compromised daemon could rename it aside and leave one of its own. The check stays
    /// for what root did not make there (a partition changed elsewhere, a mode set by hand):
    /// nothing in one found so is used.
    func setAsideUntrustedSecretDirectory(_ boxPath: String, now: Date) throws -> String? {
        let full = rooted(boxPath)
        var info = stat()
        guard lstat(full, &info) == 0 else { return nil }
        if info.isRootsOwnDirectory(mode: 0o700, checkingOwner: setsOwners) { return nil }
        let aside = boxPath + ".untrusted-\(Int(now.timeIntervalSince1970))"
        try POSIXFile.check(rename(full, rooted(aside)), "rename", full)
        try POSIXFile.fsyncDirectory((full as NSString).deletingLastPathComponent)
        return aside
    }

    /// The exact mode (whatever the umask took away) and, as root, the owner.
    private func setMetadata(_ path: String, _ file: ManagedFile, _ owner: (uid_t, gid_t)?) throws {
        if let owner { try POSIXFile.check(lchown(path, owner.0, owner.1), "lchown", path) }
        try POSIXFile.check(chmod(path, file.mode), "chmod", path)
    }

    /// The owner a file must have, nil when owners are not managed here.
    func owner(_ owner: ManagedFile.Owner) -> (uid_t, gid_t)? {
        guard setsOwners else { return nil }
        switch owner {
        case .root: return (0, 0)
        case .unmanaged: return nil
        case .daemonGroup: return (0, daemonGroup() ?? 0)
        case .dataDirectory:
            var info = stat()
            return stat(rooted(dataDirectory), &info) == 0 ? (info.st_uid, info.st_gid) : (0, 0)
        }
    }

    /// The group `gatewayd` in the box's own /etc/group (under `root`, not this process's NSS).
    func daemonGroup() -> gid_t? { group(named: "gatewayd") }

    /// A group of the box's own /etc/group.
    func group(named name: String) -> gid_t? {
        guard let text = try? String(contentsOfFile: rooted("/etc/group"), encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 3, fields[0] == name, let gid = gid_t(fields[2]) { return gid }
        }
        return nil
    }

    /// A shared folder made (0770) or, when the daemon owns it, given `group`: gatewayd.service's
    /// system call filter refuses it fchown (@privileged), so the daemon could not do it itself.
    /// The daemon adds the setgid bit at its start (SharedFolders: the group is right, the mode
    /// not), which this unit may not (RestrictSUIDSGID). True when it changed something.
    func shareFolder(_ path: String, group name: String) throws -> Bool {
        let full = rooted(path)
        var info = stat()
        var changed = false
        if lstat(full, &info) != 0 {
            // Folders above one given in gatewayd.toml (/srv/samba) must let the daemon through.
            try POSIXFile.makeDirectory((full as NSString).deletingLastPathComponent, mode: 0o755)
            try POSIXFile.makeDirectory(full, mode: 0o770)
            try POSIXFile.check(lstat(full, &info), "lstat", full)
            changed = true
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR, let (uid, _) = owner(.dataDirectory), let gid = group(named: name) else { return changed }
        // A folder the administrator made and owns (not the daemon's user) is left as it was set.
        guard changed || info.st_uid == uid, info.st_uid != uid || info.st_gid != gid else { return changed }
        try POSIXFile.check(lchown(full, uid, gid), "lchown", full)
        return true
    }

    /// Gives what first boot made in a directory of the daemon's (the console's CA) to the
    /// data directory's owner, the directory included.
    func adopt(_ path: String) throws {
        guard let (uid, gid) = owner(.dataDirectory) else { return }
        try POSIXFile.check(lchown(rooted(path), uid, gid), "lchown", rooted(path))
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: rooted(path))) ?? [] {
            let full = rooted(path) + "/" + entry
            try POSIXFile.check(lchown(full, uid, gid), "lchown", full)
        }
    }
}

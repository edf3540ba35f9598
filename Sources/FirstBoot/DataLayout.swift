// The data partition's layout (image/README.md, "The disk"): mounted at a root-owned /data, with
// `gatewayd/` the daemon's state (bind-mounted at /var/lib/gatewayd) and `system/` root's (ksmbd's
// user database, SSH host keys, the machine id). Partitions of earlier images have the daemon's
// files at the top, which is the daemon's own directory: the first boot of a newer image moves
// them in, each by one rename within the file system, so that a power cut anywhere leaves every
// entry whole in one place or the other and the next boot finishes the move.
import DurableFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

package struct DataLayout {
    /// Where the box mounts the data partition (image/rootfs/etc/fstab).
    package static let mountPoint = "/data"
    /// The daemon's state directory (the bind mount's source) and root's.
    package static let daemonDirectory = "gatewayd"
    package static let systemDirectory = "system"
    /// ksmbd's user database's directory, in the old layout at the top and now in `system/`.
    static let userDatabase = "smb"
    /// Vendors' PKCS#11 modules (docs/tokens.md): root's, beside root's other state, so that
    /// they outlive an upgrade and only root can change the code the daemon loads.
    static let modulesDirectory = "system/modules"
    /// Where fstab binds `system/modules` with exec (the partition is noexec, and dlopen needs
    /// to map a module executable), on the root's own directories (image/README.md).
    package static let modulesMount = "/usr/local/lib/gateway/modules"
    /// `[tokens] module_dir`'s default on the box (`<data_dir>/modules`), a link to that mount.
    static let modulesLink = daemonDirectory + "/modules"
    /// e2fsck's own, left where it is.
    static let lostAndFound = "lost+found"
    /// A directory made under this prefix, given its owner and mode, then renamed into place:
    /// a crash never leaves a half-made `gatewayd/` or `system/` under the real name.
    static let preparing = ".preparing-"

    /// `/data` on the box; a temporary directory in the tests.
    package let top: String
    /// Owners can be given only by root; otherwise they are neither set nor checked.
    let setsOwners = geteuid() == 0

    package init(top: String) { self.top = top }

    package struct Report: Sendable {
        /// Old-layout entries moved ("store → gatewayd/store"), in the order moved.
        package var moved: [String] = []
        /// What was left where it was or set aside, and why; the box still boots.
        package var problems: [String] = []
    }

    /// Brings the partition to the layout; nothing to do on one already laid out. `renameLimit`
    /// stops after that many renames, as a power cut would (the tests' interruption).
    package func apply(now: Date, renameLimit: Int = .max) throws -> Report {
        var report = Report()
        var renames = 0
        func move(_ from: String, _ to: String) throws -> Bool {
            guard renames < renameLimit else { return false }
            renames += 1
            try POSIXFile.rename(from, to)
            return true
        }
        var topInfo = stat()
        try POSIXFile.check(lstat(top, &topInfo), "lstat", top)
        let stamp = Int(now.timeIntervalSince1970)
        // Leftovers of a crash while preparing: empty directories, never anything moved in. One
        // that is not (the old top was the daemon's: it could have made one) is renamed to a name
        // moved in with the daemon's files below, so that it stops nothing.
        var counted = Report()
        for name in try names(&counted) where name.hasPrefix(Self.preparing) && rmdir(path(name)) != 0 {
            guard try move(path(name), path("leftover" + name + "-\(stamp)")) else { return report }
        }

        // A `system/` that root did not make (the old top was the daemon's, so the daemon could
        // have made one, or a link) is the daemon's: it goes into `gatewayd/` like its other files.
        if let info = status(Self.systemDirectory), !isRootsOwnDirectory(info, mode: nil) {
            let aside = Self.systemDirectory + ".untrusted-\(stamp)"
            if try move(path(Self.systemDirectory), path(aside)) {
                report.problems.append("\(path(Self.systemDirectory)) không phải của root, đã đổi tên thành \(aside) / was not root's: renamed \(aside)")
            }
        }
        // `gatewayd/` is bind-mounted and handed to the daemon (StateDirectory=): a link would
        // take the mount, and the daemon's ownership, anywhere it points.
        if let info = status(Self.daemonDirectory), (info.st_mode & S_IFMT) != S_IFDIR {
            let aside = Self.daemonDirectory + ".not-a-directory-\(stamp)"
            if try move(path(Self.daemonDirectory), path(aside)) {
                report.problems.append("\(path(Self.daemonDirectory)) không phải thư mục, đã đổi tên thành \(aside) / was not a directory: renamed \(aside)")
            }
        }
        guard renames < renameLimit else { return report }
        // The daemon's directory as the old top was (its owner and mode); root's 0755 for system.
        try make(Self.systemDirectory, mode: 0o755, owner: (0, 0), &renames, limit: renameLimit)
        try make(Self.daemonDirectory, mode: topInfo.st_mode & 0o7777, owner: (topInfo.st_uid, topInfo.st_gid), &renames, limit: renameLimit)
        guard renames < renameLimit else { return report }

        let daemon = path(Self.daemonDirectory), system = path(Self.systemDirectory)
        for name in try names(&report) where ![Self.daemonDirectory, Self.systemDirectory, Self.lostAndFound].contains(name) && !name.hasPrefix(Self.preparing) {
            var target = daemon + "/" + name
            // ksmbd's user database holds NT hashes, as good as the passwords for SMB: root's own
            // (0700, as firstboot checks) goes to root's side, never into the daemon's directory.
            if name == Self.userDatabase, let info = status(name), isRootsOwnDirectory(info, mode: 0o700) {
                target = system + "/" + Self.userDatabase
                if status(Self.systemDirectory + "/" + Self.userDatabase) != nil { target += ".old-layout-\(stamp)" }
            } else if name == Self.userDatabase {
                target = daemon + "/" + Self.userDatabase + ".untrusted-\(stamp)"
                report.problems.append("\(path(name)) không phải thư mục riêng của root (0700): chuyển vào \(target), mật khẩu cũ không dùng / "
                    + "was not root's own 0700 directory: moved to \(target), its passwords are not used")
            }
            var existing = stat()
            if lstat(target, &existing) == 0 {
                report.problems.append("\(path(name)): \(target) đã có, để nguyên / already exists, left where it is")
                continue
            }
            guard try move(path(name), target) else { return report }
            report.moved.append("\(name) → \(target.dropFirst(top.count + 1))")
        }
        try makeModules(&report)
        try POSIXFile.fsyncDirectory(daemon)
        try POSIXFile.fsyncDirectory(system)
        try POSIXFile.fsyncDirectory(top)
        // Last, once everything is in its place: the top is root's, so the daemon can no longer
        // rename root's directories there.
        if setsOwners, topInfo.st_uid != 0 || topInfo.st_gid != 0 { try POSIXFile.check(lchown(top, 0, 0), "lchown", top) }
        if topInfo.st_mode & 0o7777 != 0o755 { try POSIXFile.check(chmod(top, 0o755), "chmod", top) }
        try POSIXFile.fsyncDirectory(top)
        return report
    }

    /// `name` made when absent: prepared under another name, then renamed into place.
    private func make(_ name: String, mode: mode_t, owner: (uid_t, gid_t), _ renames: inout Int, limit: Int) throws {
        guard status(name) == nil, renames < limit else { return }
        let preparing = path(Self.preparing + name)
        try POSIXFile.check(mkdir(preparing, 0o700), "mkdir", preparing)
        if setsOwners { try POSIXFile.check(lchown(preparing, owner.0, owner.1), "lchown", preparing) }
        try POSIXFile.check(chmod(preparing, mode), "chmod", preparing)
        renames += 1
        try POSIXFile.rename(preparing, path(name))
        try POSIXFile.fsyncDirectory(top)
    }

    /// `system/modules`, root's 0755, and the daemon's `modules` a link to its exec mount: the
    /// daemon's directory is group-writable (0771), so a module under it would be refused
    /// (PKCS11ModuleTrust); through the link, what is judged and opened is the real path, all of
    /// it root's. Whatever already has either name is left as it is (the daemon says why a
    /// module there is refused).
    private func makeModules(_ report: inout Report) throws {
        let modules = path(Self.modulesDirectory)
        if let info = status(Self.modulesDirectory) {
            if !isRootsOwnDirectory(info, mode: nil) {
                report.problems.append("\(modules) không phải thư mục riêng của root, mô-đun trong đó sẽ bị từ chối / "
                    + "is not root's own directory: the modules in it will be refused")
            }
        } else {
            try POSIXFile.check(mkdir(modules, 0o755), "mkdir", modules)
            if setsOwners { try POSIXFile.check(lchown(modules, 0, 0), "lchown", modules) }
            try POSIXFile.check(chmod(modules, 0o755), "chmod", modules)
        }
        if status(Self.modulesLink) == nil {
            try POSIXFile.check(symlink(Self.modulesMount, path(Self.modulesLink)), "symlink", path(Self.modulesLink))
        }
    }

    private func isRootsOwnDirectory(_ info: stat, mode: mode_t?) -> Bool {
        info.isRootsOwnDirectory(mode: mode, checkingOwner: setsOwners)
    }

    private func path(_ name: String) -> String { top + "/" + name }
    private func status(_ name: String) -> stat? {
        var info = stat()
        return lstat(path(name), &info) == 0 ? info : nil
    }
    /// The top's names that are UTF-8 (every name the daemon makes); another is left where it
    /// is, said in the report, since a lossy String would name no file to rename.
    private func names(_ report: inout Report) throws -> [String] {
        var names: [String] = []
        for raw in try POSIXFile.listDirectory(top) {
            if let name = String(validating: raw, as: UTF8.self) { names.append(name) } else {
                report.problems.append("\(top): một tên không phải UTF-8, để nguyên / a name that is not UTF-8, left where it is")
            }
        }
        return names
    }
}

extension stat {
    /// A directory (not a link) that others cannot write, root's when `checkingOwner` (owners are
    /// managed only as root), and with exactly `mode` when one is given: what firstboot and the
    /// data layout accept as root's own before using or moving what is in it.
    func isRootsOwnDirectory(mode: mode_t?, checkingOwner: Bool) -> Bool {
        (st_mode & S_IFMT) == S_IFDIR && (!checkingOwner || st_uid == 0)
            && (mode.map { st_mode & 0o7777 == $0 } ?? (st_mode & 0o022 == 0))
    }
}

// The SMB shares of gateway.toml's `[shares]` for ksmbd (the kernel's SMB server, with
// ksmbd-tools; image/README.md, "The shares"): its configuration, made again from gateway.toml
// at every boot, and its user database, which must outlive an image upgrade because the
// passwords are blanked in gateway.toml once applied — so it is on the data partition.
import Foundation
import GatewayCore

package enum ShareFiles {
    /// ksmbd.mountd's default place; nothing secret in it, so it stays on the root (rewritten
    /// at the first boot after an upgrade like the rest of /etc).
    package static let configuration = "/etc/ksmbd/ksmbd.conf"
    /// On the data partition, root's side of it (DataLayout: not the daemon's directory, whose
    /// entries the daemon could rename), whatever `data_dir` says; ksmbd.mountd is pointed at it
    /// (`--pwddb=`, image/rootfs/etc/systemd/system/ksmbd.service.d).
    package static let passwordDatabase = DataLayout.mountPoint + "/" + DataLayout.systemDirectory + "/smb/ksmbdpwd.db"
    /// `force user` of both shares: what clerks create is this user's and the share group's, which
    /// the daemon is in; a user of its own rather than the daemon's, so that a clerk's PC never
    /// acts as the daemon (image/rootfs/usr/lib/sysusers.d/gateway.conf, fixed uid).
    package static let shareUser = "gatewayd-smb"
    /// The shares' names as the clerks see them (`\\hoa-tien.local\van-ban-di`): văn bản đi and
    /// văn bản đến, the register's own words for outgoing and incoming documents.
    package static let hotFolderShare = "van-ban-di"
    package static let inboxShare = "van-ban-den"

    /// The files for `boot`; `stored` is the database as it is (name → hash), for the accounts
    /// whose password was blanked. `withoutPassword`: blank accounts with nothing stored (left out).
    package static func files(for boot: BootConfiguration, stored: [String: String]) -> (files: [ManagedFile], withoutPassword: [ShareAccount]) {
        guard !boot.shareAccounts.isEmpty else {
            // No accounts: no share (ksmbd.service runs only when its configuration exists).
            return ([ManagedFile(path: configuration, contents: nil, mode: 0o644, owner: .root),
                     ManagedFile(path: passwordDatabase, contents: nil, mode: 0o600, owner: .root)], [])
        }
        var lines: [String] = []
        var missing: [ShareAccount] = []
        for account in boot.shareAccounts {
            if let password = account.password {
                lines.append("\(account.name):\(Data(NTHash.of(password)).base64EncodedString())")
            } else if let hash = stored[account.name] {
                lines.append("\(account.name):\(hash)")
            } else {
                missing.append(account)
            }
        }
        return ([ManagedFile(path: configuration, contents: BootFiles.bytes(configurationText(boot.daemon)), mode: 0o644, owner: .root),
                 ManagedFile(path: passwordDatabase, contents: BootFiles.bytes(lines.map { $0 + "\n" }.joined()), mode: 0o600, owner: .root)],
                missing)
    }

    /// The database's lines (`name:base64 hash`) by name; nil text (no file yet) is none.
    package static func storedHashes(_ text: String?) -> [String: String] {
        var hashes: [String: String] = [:]
        for line in (text ?? "").split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            hashes[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return hashes
    }

    /// The shares' names and, in the same order, their folders: no hot folder's when it is off.
    package static func names(_ daemon: GatewayConfiguration) -> [String] {
        (daemon.intake.hotFolderEnabled ? [hotFolderShare] : []) + [inboxShare]
    }
    package static func folders(_ daemon: GatewayConfiguration) -> [String] {
        (daemon.intake.hotFolderEnabled ? [daemon.hotFolderPath] : []) + [daemon.resolvedInboxFolder]
    }

    static func configurationText(_ daemon: GatewayConfiguration) -> String {
        // No guest (Windows 11 24H2 refuses it anyway), no anonymous IPC$; SMB 2.1 and later
        // (Windows 7 on); signing as ksmbd's default has it (when the client requires it).
        var text = BootFiles.header + """
            [global]
            \tserver string = Commune document gateway
            \tworkgroup = WORKGROUP
            \tserver min protocol = SMB2_10
            \tmap to guest = never
            \trestrict anonymous = 2

            """
        let comments = [hotFolderShare: "Van ban di: dat tep vao day de gui / documents to send", inboxShare: "Van ban den / incoming documents"]
        let shares = zip(names(daemon), folders(daemon)).map { ($0, $1, comments[$0] ?? "") }
        // Every account reaches both shares (no `valid users`): the box serves one office.
        // Files 0660 and folders 0770 of gatewayd-smb and the share group (kept by the setgid
        // folders the daemon makes): the daemon reads and moves what clerks drop, clerks read
        // what the daemon delivers (its UMask 0007).
        for (name, path, comment) in shares {
            text += """

                [\(name)]
                \tcomment = \(comment)
                \tpath = \(path)
                \tread only = no
                \tguest ok = no
                \tforce user = \(shareUser)
                \tforce group = \(BootConfiguration.shareGroup)
                \tcreate mask = 0660
                \tforce create mode = 0660
                \tdirectory mask = 0770
                \tforce directory mode = 0770

                """
        }
        return text
    }
}

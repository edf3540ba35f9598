// gateway.toml's `[shares]`: the accounts the office PCs use for the box's two SMB shares, the
// hot folder and the inbox folder (image/README.md, "The shares"). One line per account,
// `name = "password"`: Windows 11 24H2 refuses guest access, so the shares need accounts. The
// passwords are secrets: blanked in the file once applied, a blank one keeping the password set at
// an earlier boot (its hash is kept on the data partition, FirstBoot's ShareFiles).
import Foundation
import TOMLKit

/// One account of `[shares]`.
package struct ShareAccount: Sendable, Equatable {
    package var name: String
    /// nil: blank in gateway.toml, the password set at an earlier boot stays.
    package var password: String?
    /// Its line in gateway.toml, for trang-thai.txt when a blank one has no earlier password.
    package var line: Int?

    package init(name: String, password: String?, line: Int? = nil) {
        (self.name, self.password, self.line) = (name, password, line)
    }

    /// ksmbd takes any UTF-8 name of up to 47 bytes without `:`; this keeps to what a technician
    /// types the same way in Windows' credential box and that TOML writes as a bare key (no dot,
    /// which would make a nested table, nor the letter case ksmbd would compare exactly).
    package static func isValidName(_ name: String) -> Bool {
        (1...32).contains(name.utf8.count) && name.first != "-"
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }

    /// ksmbd's limit is 128 bytes; 8 is the least a password on the office LAN should have.
    package static let passwordBytes = 8...128
}

extension BootConfiguration {
    /// `force group` of the shares and the daemon's `[share] group` (the folders it makes are
    /// given it): the image's fixed group (image/rootfs/usr/lib/sysusers.d/gateway.conf).
    package static let shareGroup = "gatewayd-share"
}

extension ConfigurationLoader.Reader {
    /// `[shares]`'s keys are the accounts' names, so they are checked here, not as known keys.
    mutating func readShares(into boot: inout BootConfiguration) {
        guard let value = table["shares"] else { return }
        guard let shares = value.table else {
            issue("shares", "must be a section [shares]", hint: "write [shares] on its own line, then one account per line: van-phong = \"mật khẩu\"")
            return
        }
        for name in shares.keys.sorted() {
            let key = "shares.\(name)"
            guard ShareAccount.isValidName(name) else {
                issue(key, "tên tài khoản \"\(name)\" không dùng được / the account name is not usable",
                      hint: "1 to 32 lowercase letters a-z, digits, '-' or '_', without diacritics or spaces, e.g. van-phong = \"…\"")
                continue
            }
            guard let password = string(shares, "shares", name) else { continue }
            var account = ShareAccount(name: name, password: nil, line: locator.line(of: key))
            if !password.isEmpty {
                if !ShareAccount.passwordBytes.contains(password.utf8.count) {
                    issue(key, "mật khẩu phải dài 8 đến 128 byte / the password must be 8 to 128 bytes long", hint: "e.g. \(name) = \"mật-khẩu-dài\"")
                    continue
                }
                if password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                    issue(key, "mật khẩu có ký tự điều khiển / the password holds a control character", hint: "letters, digits and punctuation only")
                    continue
                }
                account.password = password
            }
            boot.shareAccounts.append(account)
        }
        // The folders the shares give are the daemon's: it must make them the share's group.
        if !boot.shareAccounts.isEmpty, let group = boot.daemon.shareGroup, group != BootConfiguration.shareGroup {
            issue("share.group", "với [shares], nhóm phải là \"\(BootConfiguration.shareGroup)\" / with [shares] the group must be \"\(BootConfiguration.shareGroup)\"",
                  hint: "remove group (the box sets it) or write group = \"\(BootConfiguration.shareGroup)\"")
        }
    }
}

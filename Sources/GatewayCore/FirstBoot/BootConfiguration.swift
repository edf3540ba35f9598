// gateway.toml (issue 19, docs/configuration.md): the one file a technician edits on the box's
// FAT partition — the daemon's own sections plus the box's network, clock, SSH keys, name and
// one-time secrets — read with the daemon's own loader and rules, never a second parser.
import DurableFiles
import Foundation
import TOMLKit

package struct BootConfiguration: Sendable, Equatable {
    package enum Network: Sendable, Equatable {
        /// DHCP, with DNS servers of the technician's beside the ones DHCP gives.
        case dhcp(dns: [String])
        /// `address` with its prefix (`192.168.1.20/24`).
        case fixed(address: String, gateway: String?, dns: [String])
    }

    package var daemon = GatewayConfiguration()
    /// The daemon's sections as TOML, for /etc/gatewayd/gatewayd.toml (the boot-only ones left out).
    package var daemonTOML = ""
    package var network = Network.dhcp(dns: [])
    /// Empty: systemd-timesyncd's own servers.
    package var timeServers: [String] = []
    package var sshKeys: [SSHPublicKey] = []
    /// A DNS label; `nil` leaves the image's own name.
    package var hostname: String?
    /// One-time secrets: carried to the data directory, then blanked in gateway.toml.
    package var enrolmentToken: String?
    package var setupCode: String?
    /// `[shares]`: the office PCs' accounts on the box's SMB shares, by name.
    package var shareAccounts: [ShareAccount] = []
    /// The file's text with those secrets blanked: what is written back and kept as the last good.
    package var blankedText = ""

    package init() {}

    /// The keys holding secrets, blanked in the file once used.
    package var secretKeys: [String] {
        (enrolmentToken == nil ? [] : ["enrolment.token"]) + (setupCode == nil ? [] : ["console.setup_code"])
            + shareAccounts.filter { $0.password != nil }.map { "shares.\($0.name)" }
    }
}

package enum BootConfigurationLoader {
    /// What gateway.toml has beyond gatewayd.toml's sections.
    static let bootKeys: [String: Set<String>] = [
        "": ["network", "time", "ssh", "box", "shares"],
        "network": ["dhcp", "address", "gateway", "dns"],
        "time": ["servers"],
        "ssh": ["keys"],
        "enrolment": ["token"],
        "box": ["hostname"],
        "console": ["setup_code"],
    ]

    /// Every problem of the file at once, each with its line (the same `ConfigurationErrors` as
    /// `gatewayd config check`).
    package static func parse(_ text: String, path: String) throws(ConfigurationErrors) -> BootConfiguration {
        let table = try ConfigurationLoader.table(text, path: path)
        var reader = ConfigurationLoader.Reader(table: table, locator: KeyLocator(text: text), extraKeys: bootKeys)
        var boot = BootConfiguration()
        boot.daemon = reader.read()
        // The token is carried to the data directory (`enrolment-token`), not into gatewayd.toml.
        boot.daemon.enrolment.token = nil
        reader.readBoot(into: &boot)
        reader.readShares(into: &boot)
        // Shares without the daemon's [share] group would give folders ksmbd's user cannot write.
        if !boot.shareAccounts.isEmpty, boot.daemon.shareGroup == nil { boot.daemon.shareGroup = BootConfiguration.shareGroup }
        if !reader.issues.isEmpty { throw ConfigurationErrors(path: path, issues: reader.issues) }
        guard let blanked = boot.secretKeys.isEmpty ? text : BootFileSecrets.blank(boot.secretKeys, in: text) else {
            throw ConfigurationErrors(path: path, issues: boot.secretKeys.map { key in
                ConfigurationIssue(key: key, line: KeyLocator(text: text).line(of: key),
                                   message: "viết giá trị trên một dòng trong ngoặc kép / write the value on one line in double quotes", hint: "e.g. token = \"…\"")
            })
        }
        boot.blankedText = blanked
        boot.daemonTOML = daemonSections(of: table, shareGroup: boot.daemon.shareGroup)
        // What gatewayd will read must be what was checked here: read back with its own loader.
        do {
            guard try ConfigurationLoader.parse(boot.daemonTOML, path: path) == boot.daemon else {
                throw ConfigurationErrors(path: path, issues: [ConfigurationIssue(message: "the daemon's sections did not survive rewriting", hint: nil)])
            }
        } catch let errors as ConfigurationErrors {
            throw errors
        } catch {
            throw ConfigurationErrors(path: path, issues: [ConfigurationIssue(message: "\(error)", hint: nil)])
        }
        return boot
    }

    /// The table without the boot-only sections and keys, as TOML (sorted, so the same file
    /// always gives the same bytes: nothing is rewritten on flash when nothing changed).
    static func daemonSections(of table: TOMLTable, shareGroup: String? = nil) -> String {
        for section in bootKeys[""] ?? [] { table.remove(at: section) }
        // `[enrolment] url` is the daemon's; its token and `[console] setup_code` are secrets
        // carried to the data directory.
        for (section, keys) in [("console", bootKeys["console"] ?? []), ("enrolment", ["token"])] {
            guard let part = table[section]?.table else { continue }
            for key in keys { part.remove(at: key) }
            if part.isEmpty { table.remove(at: section) }
        }
        if let shareGroup, table["share"]?.table?["group"] == nil {
            let share = table["share"]?.table ?? TOMLTable()
            share["group"] = shareGroup
            table["share"] = share
        }
        let toml = table.convert(to: .toml)
        return toml.isEmpty || toml.hasSuffix("\n") ? toml : toml + "\n"
    }

    /// From a file that cannot be applied, the ways in that still parse — its SSH keys, its host
    /// name — for the fallback of a box with no good configuration. A line that is TOML-broken
    /// elsewhere does not cost the technician the key on another line.
    package static func salvage(_ text: String) -> (keys: [SSHPublicKey], hostname: String?) {
        if let table = try? TOMLTable(string: text) {
            let value = table["ssh"]?.table?["keys"]
            let texts = value?.array?.compactMap(\.string) ?? value?.string.map { [$0] } ?? []
            let keys = texts.compactMap { try? SSHPublicKey($0) }
            let hostname = table["box"]?.table?["hostname"]?.string.flatMap(HostName.label)
            return (keys, hostname)
        }
        var keys: [SSHPublicKey] = []
        for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).hasPrefix("#") {
            for quoted in line.split(separator: "\"", omittingEmptySubsequences: false).enumerated() where quoted.offset % 2 == 1 {
                if let key = try? SSHPublicKey(String(quoted.element)) { keys.append(key) }
            }
        }
        return (keys, nil)
    }
}

/// gateway.toml as Notepad may save it: UTF-8 with or without a byte-order mark, which is kept
/// when the file is written back.
package struct BootFileText: Sendable {
    package var text: String
    package var bom: [UInt8]

    /// A technician's file is a few kilobytes; anything near this is not one.
    static let limit: Int64 = 1 << 20

    package static func read(_ path: String) throws(ConfigurationErrors) -> BootFileText {
        if let size = POSIXFile.size(path), size > limit {
            throw ConfigurationErrors(path: path, issues: [ConfigurationIssue(
                message: "tệp quá lớn (\(size) byte) / the file is too large (\(size) bytes)", hint: "gateway.toml is a few kilobytes of text")])
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationErrors(path: path, issues: [ConfigurationIssue(
                message: "không đọc được tệp / cannot read the file", hint: "put gateway.toml on the GATEWAY partition (the one Windows shows)")])
        }
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let hasBOM = data.starts(with: bom)
        guard let text = String(validating: data.dropFirst(hasBOM ? 3 : 0), as: UTF8.self) else {
            throw ConfigurationErrors(path: path, issues: [ConfigurationIssue(
                message: "tệp không phải UTF-8 / the file is not UTF-8 text", hint: "in Notepad: File › Save as, Encoding UTF-8")])
        }
        return BootFileText(text: text, bom: hasBOM ? bom : [])
    }
}

/// Host names and addresses as gateway.toml writes them.
package enum HostName {
    /// A DNS label (RFC 1123): what `<name>.local` and the console's certificate are made of.
    package static func label(_ text: String) -> String? {
        let name = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard (1...63).contains(name.utf8.count), !name.hasPrefix("-"), !name.hasSuffix("-"),
              name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
        else { return nil }
        return name
    }

    /// A server's name (labels joined by dots) or an IP address.
    package static func isServer(_ text: String) -> Bool {
        if ipFamily(text) != nil { return true }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return text.utf8.count <= 253 && labels.allSatisfy { label(String($0)) != nil && !$0.contains(" ") }
    }

    /// AF_INET or AF_INET6 for an address in text, nil otherwise.
    package static func ipFamily(_ text: String) -> Int32? {
        bytes(text).map { $0.count == 4 ? AF_INET : AF_INET6 }
    }

    /// The address's bytes (4 or 16).
    static func bytes(_ text: String) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, text, &buffer) == 1 { return Array(buffer.prefix(4)) }
        if inet_pton(AF_INET6, text, &buffer) == 1 { return buffer }
        return nil
    }
}

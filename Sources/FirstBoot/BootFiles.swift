// What gateway.toml decides on the box, as whole files: each one's exact bytes (or that it must
// not exist), its mode and its owner. Pure: the same configuration always gives the same bytes.
import Console
import Foundation
import GatewayCore

/// A file first boot manages on the box: its whole content, or that it must not exist.
package struct ManagedFile: Sendable, Equatable {
    package enum Owner: Sendable, Equatable {
        /// root:root.
        case root
        /// root and the daemon's group (`gatewayd` in the box's /etc/group), so the daemon may read it.
        case daemonGroup
        /// Whoever owns the data directory (the daemon's user), for files inside it.
        case dataDirectory
        /// Mode and owner left as the file system has them (the FAT partition has neither).
        case unmanaged
    }

    /// As on the box (`/etc/hostname`), whatever `--root` the files are written under.
    package var path: String
    package var contents: [UInt8]?
    package var mode: mode_t
    package var owner: Owner

    package init(path: String, contents: [UInt8]?, mode: mode_t, owner: Owner) {
        (self.path, self.contents, self.mode, self.owner) = (path, contents, mode, owner)
    }
}

package enum BootFiles {
    package static let daemonConfiguration = GatewayConfiguration.defaultPath
    package static let network = "/etc/systemd/network/10-gateway.network"
    package static let timeServers = "/etc/systemd/timesyncd.conf.d/gateway.conf"
    /// sshd reads it through `AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u` for the user
    /// `technician` (the image's sshd_config).
    package static let sshKeys = "/etc/ssh/authorized_keys.d/technician"
    package static let hostname = "/etc/hostname"
    /// The last gateway.toml applied, secrets blanked: what stays in force when a later one is
    /// wrong. The one thing firstboot keeps that gateway.toml does not give again, so on the data
    /// partition, root's side (DataLayout): an upgrade's new root keeps it, and a read-only root
    /// would not have to hold it.
    package static let lastGood = DataLayout.mountPoint + "/" + DataLayout.systemDirectory + "/gateway.toml.last-good"

    /// Where the enrolment (the issue "The technician's day") finds the token given in gateway.toml.
    package static func enrolmentToken(_ layout: StoreLayout) -> String { layout.dataDirectory + "/enrolment-token" }

    static let header = """
        # Viết bởi `gatewayd firstboot` từ gateway.toml (phân vùng GATEWAY): sửa tệp đó, không sửa tệp này.
        # Written by `gatewayd firstboot` from gateway.toml (the GATEWAY partition): edit that file, not this one.

        """

    /// Everything a good gateway.toml decides.
    package static func files(for boot: BootConfiguration) -> [ManagedFile] {
        let keys = boot.sshKeys.map { $0.line + "\n" }.joined()
        var files = [
            ManagedFile(path: daemonConfiguration, contents: bytes(header + boot.daemonTOML), mode: 0o640, owner: .daemonGroup),
            ManagedFile(path: network, contents: bytes(header + networkUnit(boot.network)), mode: 0o644, owner: .root),
            ManagedFile(path: timeServers, contents: boot.timeServers.isEmpty ? nil : bytes(header + "[Time]\nNTP=\(boot.timeServers.joined(separator: " "))\n"),
                        mode: 0o644, owner: .root),
            ManagedFile(path: sshKeys, contents: keys.isEmpty ? nil : bytes(header + keys), mode: 0o644, owner: .root),
        ]
        if let name = boot.hostname { files.append(ManagedFile(path: hostname, contents: bytes(name + "\n"), mode: 0o644, owner: .root)) }
        // Secrets are written when given and never removed here: the console consumes its code,
        // the enrolment its token; a blanked value in gateway.toml means "already handed over".
        let layout = boot.daemon.layout
        if let code = boot.setupCode {
            files.append(ManagedFile(path: SetupCode(layout: layout).path, contents: bytes(code + "\n"), mode: 0o600, owner: .dataDirectory))
        }
        if let token = boot.enrolmentToken {
            files.append(ManagedFile(path: enrolmentToken(layout), contents: bytes(token + "\n"), mode: 0o600, owner: .dataDirectory))
        }
        return files
    }

    /// A box that never had a good configuration must still be reachable: DHCP, SSH with the
    /// keys that parse, the console on (the daemon's defaults otherwise).
    package static func fallback(keys: [SSHPublicKey], hostname: String?) -> BootConfiguration {
        var boot = BootConfiguration()
        boot.daemon.console.enabled = true
        boot.daemonTOML = "[console]\nenabled = true\n"
        (boot.sshKeys, boot.hostname) = (keys, hostname)
        return boot
    }

    /// systemd-networkd: every wired interface (an office box has one), mDNS on it for
    /// `<name>.local` where systemd-resolved answers mDNS (avahi ignores this line).
    static func networkUnit(_ network: BootConfiguration.Network) -> String {
        var lines = ["[Match]", "Type=ether", "", "[Network]"]
        switch network {
        case .dhcp(let dns):
            lines.append("DHCP=yes")
            lines += dns.map { "DNS=\($0)" }
        case .fixed(let address, let gateway, let dns):
            lines.append("Address=\(address)")
            if let gateway { lines.append("Gateway=\(gateway)") }
            lines += dns.map { "DNS=\($0)" }
        }
        lines.append("MulticastDNS=yes")
        return lines.joined(separator: "\n") + "\n"
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
}

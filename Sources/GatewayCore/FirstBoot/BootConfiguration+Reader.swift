// gateway.toml's own sections for the configuration loader: `[network]`, `[time]`, `[ssh]`,
// `[box]`, `[enrolment]` and `[console] setup_code`, each problem with its key and a hint.
import Foundation
import TOMLKit

extension ConfigurationLoader.Reader {
    mutating func readBoot(into boot: inout BootConfiguration) {
        if let network = section("network") { readNetwork(network, into: &boot.network) }
        if let time = section("time"), let servers = stringList(time, "time", "servers", example: "servers = [\"0.vn.pool.ntp.org\", \"time.google.com\"]") {
            for (index, server) in servers.enumerated() where !HostName.isServer(server) {
                issue("time.servers", "mục \(index + 1) \"\(server)\" không phải tên máy chủ hay địa chỉ IP / item \(index + 1) is not a server name or IP address",
                      hint: "e.g. servers = [\"0.vn.pool.ntp.org\"]")
            }
            boot.timeServers = servers
        }
        if let ssh = section("ssh"), let keys = stringList(ssh, "ssh", "keys", example: "keys = [\"ssh-ed25519 AAAA… ky-thuat@laptop\"]") {
            for (index, text) in keys.enumerated() {
                do throws(ConfigurationIssue) { boot.sshKeys.append(try SSHPublicKey(text)) } catch {
                    issue("ssh.keys", "khóa / key \(index + 1): \(error.message)", hint: error.hint)
                }
            }
        }
        if let box = section("box"), let name = string(box, "box", "hostname") {
            if let label = HostName.label(name) { boot.hostname = label } else {
                issue("box.hostname", "\"\(name)\" không dùng được làm tên máy / is not usable as a host name",
                      hint: "1 to 63 letters a-z, digits and hyphens, without diacritics or spaces, e.g. hostname = \"hoa-tien\" (clerks then open https://hoa-tien.local:8443)")
            }
        }
        // `[enrolment]` was read (and its keys checked) with the daemon's sections.
        if let enrolment = table["enrolment"]?.table, let token = string(enrolment, "enrolment", "token") {
            let trimmed = token.trimmingCharacters(in: .whitespaces)
            if trimmed.contains(where: { $0.isNewline || $0 == " " }) || trimmed.utf8.count > 512 {
                issue("enrolment.token", "mã ghi danh không hợp lệ / the enrolment token is not valid", hint: "copy it again as the hub gave it, on one line")
            } else if !trimmed.isEmpty {
                boot.enrolmentToken = trimmed
            }
        }
        // `[console]` was read (and its keys checked) with the daemon's sections.
        if let console = table["console"]?.table, let code = string(console, "console", "setup_code") {
            let digits = code.filter { $0 != " " && $0 != "-" }
            if digits.isEmpty {
                // Blank: already used, or not wanted (the daemon then makes one of its own).
            } else if digits.count == 12, digits.allSatisfy({ ("0"..."9").contains($0) }) {
                boot.setupCode = stride(from: 0, to: 12, by: 4).map { String(digits.dropFirst($0).prefix(4)) }.joined(separator: "-")
            } else {
                issue("console.setup_code", "mã cài đặt phải có đúng 12 chữ số / the setup code must be exactly 12 digits",
                      hint: "e.g. setup_code = \"4821-0937-5562\"; leave it out and the box makes one (`gatewayd status` shows it)")
            }
        }
    }

    mutating func readNetwork(_ table: TOMLTable, into network: inout BootConfiguration.Network) {
        let dhcp = bool(table, "network", "dhcp")
        let address = string(table, "network", "address")
        let gateway = string(table, "network", "gateway")
        var dns: [String] = []
        if let servers = stringList(table, "network", "dns", example: "dns = [\"192.168.1.1\", \"8.8.8.8\"]") {
            for (index, server) in servers.enumerated() where HostName.ipFamily(server) == nil {
                issue("network.dns", "mục \(index + 1) \"\(server)\" không phải địa chỉ IP / item \(index + 1) is not an IP address", hint: "e.g. dns = [\"192.168.1.1\"]")
            }
            dns = servers
        }
        if dhcp == true {
            for (key, value) in [("address", address), ("gateway", gateway)] where value != nil {
                issue("network.\(key)", "dhcp = true thì không ghi \(key) / with dhcp = true there is no \(key)",
                      hint: "dhcp = false for a fixed address, or remove \(key)")
            }
            network = .dhcp(dns: dns)
            return
        }
        guard let address else {
            if dhcp == false {
                // Said at `dhcp`: the line that is there (the address is what is missing).
                issue("network.dhcp", "dhcp = false cần địa chỉ tĩnh (address) / dhcp = false needs a fixed address", hint: "e.g. address = \"192.168.1.20/24\"")
            } else if gateway != nil {
                issue("network.gateway", "cổng mạng chỉ dùng với địa chỉ tĩnh / a gateway goes with a fixed address", hint: "add address = \"192.168.1.20/24\" and dhcp = false")
            }
            network = .dhcp(dns: dns)
            return
        }
        let parts = address.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let ip = HostName.bytes(String(parts[0])), let prefix = Int(parts[1]), (1...(ip.count * 8)).contains(prefix) else {
            issue("network.address", "\"\(address)\" không phải địa chỉ/độ dài tiền tố / is not ADDRESS/PREFIX",
                  hint: "e.g. address = \"192.168.1.20/24\" (/24 is the mask 255.255.255.0)")
            return
        }
        if let gateway {
            if let router = HostName.bytes(gateway), router.count == ip.count {
                if !Self.sameSubnet(ip, router, prefix: prefix) {
                    issue("network.gateway", "\(gateway) không cùng mạng với \(address) / is not in the network of \(address)",
                          hint: "the router's address on this LAN, e.g. gateway = \"192.168.1.1\"")
                }
            } else {
                issue("network.gateway", "\"\(gateway)\" không phải địa chỉ IP cùng loại với address / is not an IP address of the same kind as address",
                      hint: "e.g. gateway = \"192.168.1.1\"")
            }
        }
        network = .fixed(address: address, gateway: gateway, dns: dns)
    }

    static func sameSubnet(_ a: [UInt8], _ b: [UInt8], prefix: Int) -> Bool {
        for index in a.indices {
            let bits = max(0, min(8, prefix - index * 8))
            let mask = bits == 0 ? UInt8(0) : UInt8(0xFF) << (8 - bits)
            if a[index] & mask != b[index] & mask { return false }
        }
        return true
    }

    /// A list of strings; one string alone is taken as a list of one (a common slip).
    mutating func stringList(_ table: TOMLTable, _ section: String, _ key: String, example: String) -> [String]? {
        guard let value = table[key] else { return nil }
        if let text = value.string { return [text] }
        guard let array = value.array, array.allSatisfy({ $0.string != nil }) else {
            issue(join(section, key), "phải là danh sách chuỗi / must be a list of strings", hint: "e.g. \(example)")
            return nil
        }
        return array.compactMap(\.string)
    }
}

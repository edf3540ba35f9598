// `gatewayd firstboot` on a temporary root: gateway.toml applied whole or not at all, nothing
// rewritten when nothing changed, the last good configuration kept, the fallback, the secrets.
import Console
import FirstBoot
import Foundation
import GatewayCore
import XCTest

final class FirstBootTests: XCTestCase {
    static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGG1RQUfb+ehDksHhj2wzZ8WuE9ANFgR0iQHZ5o4Yo0V ky-thuat@laptop"
    static let ecdsaKey = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPC7uoGVubvIkWcJs8pfpXATBy9KmAQC0y4YgZPnqay7zRq1ZoRrXOF+9IRelMcwBeT5ZFbwHvuKP5R97WHE9WI= kt2"

    /// As a technician writes it in Notepad: comments, Vietnamese, CRLF, a byte-order mark.
    static let good = """
        # Cấu hình hộp UBND xã Hòa Tiến
        [agency]
        code = "000.00.20.H13"
        name = "UBND xã Hòa Tiến"   # tên trên văn bản

        [console]
        listen = "0.0.0.0:8443"
        setup_code = "4821 0937 5562"   # đổi sau khi dùng

        [box]
        hostname = "hoa-tien"

        [network]
        dhcp = false
        address = "192.168.1.20/24"
        gateway = "192.168.1.1"
        dns = ["192.168.1.1", "8.8.8.8"]

        [time]
        servers = ["0.vn.pool.ntp.org", "time.google.com"]

        [ssh]
        keys = ["\(key)", "\(ecdsaKey)"]

        [enrolment]
        token = "TOKEN-abc123-bí-mật"
        """.replacingOccurrences(of: "\n", with: "\r\n")

    var root = ""
    var fat = ""

    override func setUpWithError() throws {
        let base = FileManager.default.temporaryDirectory.path + "/firstboot-\(UUID().uuidString)"
        (root, fat) = (base + "/root", base + "/fat")
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: fat, withIntermediateDirectories: true)
        try "root:x:0:\ngatewayd:x:4242:\n".write(toFile: root + "/etc/group", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent)
    }

    var bootFile: String { fat + "/gateway.toml" }
    var statusFile: String { fat + "/trang-thai.txt" }

    func writeBootFile(_ text: String, bom: Bool = true) throws {
        try Data((bom ? [0xEF, 0xBB, 0xBF] : []) + Array(text.utf8)).write(to: URL(fileURLWithPath: bootFile))
    }

    func boot() -> BootReport { FirstBoot(bootFile: bootFile, statusFile: statusFile, root: root).run() }

    func read(_ path: String) -> String? { try? String(contentsOfFile: root + path, encoding: .utf8) }

    func mode(_ path: String) -> stat {
        var info = stat()
        XCTAssertEqual(lstat(root + path, &info), 0, path)
        return info
    }

    func status() throws -> (bytes: [UInt8], text: String) {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: statusFile)))
        return (bytes, String(decoding: bytes.dropFirst(3), as: UTF8.self))
    }

    func testAGoodFileIsAppliedWholeWithItsModes() throws {
        try writeBootFile(Self.good)
        let report = boot()
        XCTAssertEqual(report.exitCode, 0, "\(report.issues) \(report.problems)")
        XCTAssertEqual(report.result, .applied)

        let daemonText = try XCTUnwrap(read("/etc/gatewayd/gatewayd.toml"))
        let daemon = try ConfigurationLoader.parse(daemonText)
        XCTAssertEqual(daemon.agency.name, "UBND xã Hòa Tiến", "diacritics survive")
        XCTAssertEqual(daemon.console.listen, "0.0.0.0:8443")
        XCTAssertFalse(daemonText.contains("setup_code") || daemonText.contains("[network]") || daemonText.contains("TOKEN"))
        XCTAssertEqual(mode("/etc/gatewayd/gatewayd.toml").st_mode & 0o777, 0o640)
        if geteuid() == 0 { XCTAssertEqual(mode("/etc/gatewayd/gatewayd.toml").st_gid, 4242, "the daemon's group may read it") }

        let network = try XCTUnwrap(read("/etc/systemd/network/10-gateway.network"))
        XCTAssertTrue(network.contains("Address=192.168.1.20/24\nGateway=192.168.1.1\nDNS=192.168.1.1\nDNS=8.8.8.8\n"), network)
        XCTAssertFalse(network.contains("DHCP"))
        XCTAssertEqual(read("/etc/systemd/timesyncd.conf.d/gateway.conf")?.contains("[Time]\nNTP=0.vn.pool.ntp.org time.google.com\n"), true)
        let keys = try XCTUnwrap(read("/etc/ssh/authorized_keys.d/technician"))
        XCTAssertTrue(keys.hasSuffix(Self.key + "\n" + Self.ecdsaKey + "\n"), keys)
        XCTAssertEqual(mode("/etc/ssh/authorized_keys.d/technician").st_mode & 0o777, 0o644)
        XCTAssertEqual(read("/etc/hostname"), "hoa-tien\n")

        XCTAssertEqual(read("/var/lib/gatewayd/console/setup-code"), "4821-0937-5562\n")
        XCTAssertEqual(mode("/var/lib/gatewayd/console/setup-code").st_mode & 0o777, 0o600)
        XCTAssertEqual(read("/var/lib/gatewayd/enrolment-token"), "TOKEN-abc123-bí-mật\n")
        XCTAssertEqual(mode("/var/lib/gatewayd/enrolment-token").st_mode & 0o777, 0o600)

        // The last good copy and the file on the FAT: secrets blank, the rest byte for byte.
        let expected = Self.good.replacingOccurrences(of: "\"4821 0937 5562\"", with: "\"\"")
            .replacingOccurrences(of: "\"TOKEN-abc123-bí-mật\"", with: "\"\"")
        XCTAssertEqual(read("/data/system/gateway.toml.last-good"), expected)
        XCTAssertEqual(mode("/data/system/gateway.toml.last-good").st_mode & 0o777, 0o600)
        let rewritten = try Array(Data(contentsOf: URL(fileURLWithPath: bootFile)))
        XCTAssertEqual(rewritten, [0xEF, 0xBB, 0xBF] + Array(expected.utf8), "BOM, CRLF, comments and diacritics kept")
        XCTAssertEqual(report.secretsBlanked, ["enrolment.token", "console.setup_code"])

        let (bytes, text) = try status()
        XCTAssertEqual(Array(bytes.prefix(3)), [0xEF, 0xBB, 0xBF], "UTF-8 with BOM for Notepad")
        XCTAssertFalse(text.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "CRLF only")
        XCTAssertTrue(text.contains("ĐÃ ÁP DỤNG gateway.toml / RESULT: gateway.toml APPLIED"), text)
        XCTAssertTrue(text.contains("Cơ quan / agency: 000.00.20.H13 — UBND xã Hòa Tiến\r\n"), "diacritics survive: \(text)")
        XCTAssertTrue(text.contains("https://hoa-tien.local:8443/") && text.contains("https://192.168.1.20:8443/"), text)
        let fingerprints = try BoxCA.fingerprints(ofPEMFile: root + "/var/lib/gatewayd/console/ca.pem")
        XCTAssertTrue(text.contains("CA SHA-256: \(fingerprints.sha256)"), text)
        XCTAssertFalse(text.contains("TOKEN-abc123") || text.contains("4821"), "no secret in the status")
    }

    func testAppliedTwiceWritesNothingTheSecondTime() throws {
        try writeBootFile(Self.good)
        XCTAssertEqual(boot().exitCode, 0)
        let paths = ["/etc/gatewayd/gatewayd.toml", "/etc/systemd/network/10-gateway.network", "/etc/systemd/timesyncd.conf.d/gateway.conf",
                     "/etc/ssh/authorized_keys.d/technician", "/etc/hostname", "/data/system/gateway.toml.last-good"]
        func identities() -> [String] {
            (paths.map { root + $0 } + [bootFile]).map { path in
                var info = stat()
                _ = lstat(path, &info)
                return "\(path) \(info.st_ino) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
            }
        }
        let before = identities()
        let second = boot()
        XCTAssertEqual(second.exitCode, 0)
        XCTAssertEqual(second.written, [], "nothing changed, nothing written")
        XCTAssertEqual(identities(), before, "not one file replaced, the FAT's included")
        XCTAssertTrue(try status().text.contains("Không tệp nào thay đổi / no file changed"))
        // trang-thai.txt said what the first boot wrote; from now on it stays as it is too.
        let status = try Data(contentsOf: URL(fileURLWithPath: statusFile))
        var info = stat()
        _ = lstat(statusFile, &info)
        XCTAssertEqual(boot().written, [])
        var again = stat()
        _ = lstat(statusFile, &again)
        XCTAssertEqual(info.st_ino, again.st_ino, "trang-thai.txt not rewritten with the same text")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: statusFile)), status)
    }

    func testABrokenFileKeepsTheLastGoodOneWithEachErrorAndItsLine() throws {
        try writeBootFile(Self.good)
        XCTAssertEqual(boot().exitCode, 0)
        let applied = try XCTUnwrap(read("/etc/gatewayd/gatewayd.toml"))
        let network = try XCTUnwrap(read("/etc/systemd/network/10-gateway.network"))
        let broken: [(text: String, line: Int, expect: String)] = [
            ("[agency]\nname = \"UBND xã Hòa Tiến\nhostname = 1\n", 2, "not valid TOML"),
            ("[box]\nhostname = \"hoa-tien\"\n\n[network]\ndhcp = false\nadress = \"192.168.1.21/24\"\n", 6, "network.adress: unknown key"),
            ("# địa chỉ sai\n[network]\ndhcp = false\naddress = \"192.168.1.300/24\"\n", 4, "network.address"),
            ("[ssh]\nkeys = [\n  \"ssh-ed25519 AAAA-hỏng\",\n]\n", 2, "ssh.keys"),
            ("[box]\nhostname = \"Hòa Tiến\"\n", 2, "box.hostname"),
        ]
        for (text, line, expect) in broken {
            try writeBootFile(text.replacingOccurrences(of: "\n", with: "\r\n"))
            let report = boot()
            XCTAssertEqual(report.exitCode, 1, text)
            XCTAssertEqual(report.result, .keptLastGood, text)
            XCTAssertEqual(report.written, [], "the last good configuration is already in force: \(text)")
            XCTAssertEqual(read("/etc/gatewayd/gatewayd.toml"), applied)
            XCTAssertEqual(read("/etc/systemd/network/10-gateway.network"), network)
            let status = try status().text
            XCTAssertTrue(status.contains("dòng / line \(line): ") && status.contains(expect), "\(expect) at line \(line):\n\(status)")
            XCTAssertTrue(status.contains("cấu hình tốt gần nhất vẫn giữ nguyên") && status.contains("https://hoa-tien.local:8443/"), status)
        }
        let bad = try status().text
        XCTAssertTrue(bad.contains("gợi ý / hint: 1 to 63 letters"), bad)
    }

    func testAFirstBootWithABrokenFileFallsBackToDHCPSSHAndTheConsole() throws {
        try writeBootFile("""
            [box]
            hostname = "hoa-tien"
            [network]
            dhcp = false
            address = "192.168.1.20"
            [ssh]
            keys = ["\(Self.key)", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC/APbjEz4iy42PeqIyKRTFe8EKMEKwAJhoT0kEJ7Hx9amJoB5uhYJS5G35bNAVje2paqzvfy/JMIFZxMXYOAOYTqkpg/uZ9XGgKWS4gNYPDiXshR90cRwEJBt2FU6qXky1amdCT4bSEq7Q4OD0wFEhD3L8HKk15TzoTODWGa7QiQ== old"]
            [enrolment]
            token = "chưa-dùng"
            """)
        let report = boot()
        XCTAssertEqual(report.exitCode, 2)
        XCTAssertEqual(report.result, .fallback)
        XCTAssertEqual(report.issues.map(\.key), ["network.address", "ssh.keys"])
        XCTAssertTrue(try XCTUnwrap(read("/etc/systemd/network/10-gateway.network")).contains("DHCP=yes"))
        XCTAssertEqual(read("/etc/ssh/authorized_keys.d/technician")?.hasSuffix(Self.key + "\n"), true, "the key that parses, not the short RSA one")
        XCTAssertTrue(try ConfigurationLoader.parse(try XCTUnwrap(read("/etc/gatewayd/gatewayd.toml"))).console.enabled)
        XCTAssertEqual(read("/etc/hostname"), "hoa-tien\n")
        XCTAssertNil(read("/data/system/gateway.toml.last-good"), "a fallback is never a good configuration")
        XCTAssertNil(read("/var/lib/gatewayd/enrolment-token"), "nothing of a wrong file is used")
        XCTAssertTrue(try String(contentsOfFile: bootFile, encoding: .utf8).contains("chưa-dùng"), "an unused secret is not blanked")
        let status = try status().text
        XCTAssertTrue(status.contains("chưa từng có cấu hình tốt") && status.contains("never had a good configuration"), status)
        XCTAssertTrue(status.contains("dòng / line 5: network.address") && status.contains("dòng / line 7: ssh.keys"), status)
        XCTAssertTrue(status.contains("CA SHA-256: "), status)

        // Not TOML at all: the key on its own line still gets the technician in.
        try writeBootFile("[ssh\nkeys = [\"\(Self.key)\"]\n")
        XCTAssertEqual(boot().exitCode, 2)
        XCTAssertEqual(read("/etc/ssh/authorized_keys.d/technician")?.hasSuffix(Self.key + "\n"), true)
        // Fixed, it is applied and becomes the last good one.
        try writeBootFile("[ssh]\nkeys = [\"\(Self.key)\"]\n")
        XCTAssertEqual(boot().exitCode, 0)
        XCTAssertNotNil(read("/data/system/gateway.toml.last-good"))
    }

    func testACAThatCannotBeMadeNowIsLeftToTheDaemon() throws {
        // The data partition not writable yet (here: not even a directory).
        try FileManager.default.createDirectory(atPath: root + "/var/lib", withIntermediateDirectories: true)
        try "".write(toFile: root + "/var/lib/gatewayd", atomically: false, encoding: .utf8)
        try writeBootFile("[box]\nhostname = \"hoa-tien\"\n")
        let report = boot()
        XCTAssertEqual(report.exitCode, 0, "\(report.problems)")
        XCTAssertNotNil(report.caProblem)
        XCTAssertTrue(try status().text.contains("gatewayd makes it when it starts"))
    }

    func testASecretThatCannotBeHandedOverIsNotBlanked() throws {
        try FileManager.default.createDirectory(atPath: root + "/var/lib", withIntermediateDirectories: true)
        try "".write(toFile: root + "/var/lib/gatewayd", atomically: false, encoding: .utf8)
        try writeBootFile("[box]\nhostname = \"hoa-tien\"\n[enrolment]\ntoken = \"T-1\"\n")
        let report = boot()
        XCTAssertEqual(report.exitCode, 1)
        XCTAssertFalse(report.problems.isEmpty)
        XCTAssertTrue(report.written.contains("/etc/hostname"), "what was written is said: \(report.written)")
        XCTAssertTrue(try String(contentsOfFile: bootFile, encoding: .utf8).contains("T-1"), "kept until it is handed over")
        XCTAssertNil(read("/data/system/gateway.toml.last-good"))
        XCTAssertTrue(try status().text.contains("NOT FULLY APPLIED"))
    }

    func testAMissingFileOnAFreshBoxFallsBack() throws {
        let report = boot()
        XCTAssertEqual(report.exitCode, 2)
        XCTAssertTrue(try status().text.contains("cannot read the file"))
    }

    func testSSHKeysAreCheckedBeforeSSHDSeesThem() throws {
        XCTAssertEqual(try SSHPublicKey(Self.key).comment, "ky-thuat@laptop")
        XCTAssertEqual(try SSHPublicKey(Self.ecdsaKey).type, "ecdsa-sha2-nistp256")
        let refused = [
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC/APbjEz4iy42PeqIyKRTFe8EKMEKwAJhoT0kEJ7Hx9amJoB5uhYJS5G35bNAVje2paqzvfy/JMIFZxMXYOAOYTqkpg/uZ9XGgKWS4gNYPDiXshR90cRwEJBt2FU6qXky1amdCT4bSEq7Q4OD0wFEhD3L8HKk15TzoTODWGa7QiQ== old": "1024 bit",
            "-----BEGIN OPENSSH PRIVATE KEY-----": "PRIVATE",
            "command=\"/bin/sh\" \(Self.key)": "options",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGG1RQUfb+ehDksHhj2wzZ8WuE9ANFgR0iQHZ5o4Yo0": "damaged",
            "ssh-ed25519 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPC7uoGVubvIkWcJs8pfpXATBy9KmAQC0y4YgZPnqay7zRq1ZoRrXOF+9IRelMcwBeT5ZFbwHvuKP5R97WHE9WI=": "not of type",
            "ssh-dss AAAAB3NzaC1kc3M=": "not accepted",
        ]
        for (text, expect) in refused {
            XCTAssertThrowsError(try SSHPublicKey(text), text) { error in
                XCTAssertTrue("\(error)".contains(expect), "\(error)")
            }
        }
    }

    func testSecretsAreBlankedInTheTechniciansOwnText() throws {
        let text = "# giữ chú thích\r\n[enrolment]\r\ntoken = \"a\\\"b\"  # mã\r\n[console]\r\nsetup_code = '1111-2222-3333'\r\n"
        XCTAssertEqual(BootFileSecrets.blank(["enrolment.token", "console.setup_code"], in: text),
                       "# giữ chú thích\r\n[enrolment]\r\ntoken = \"\"  # mã\r\n[console]\r\nsetup_code = \"\"\r\n")
        XCTAssertNil(BootFileSecrets.blank(["enrolment.token"], in: "[enrolment]\ntoken = \"\"\"\nx\"\"\"\n"), "multi-line: not edited")
    }
}

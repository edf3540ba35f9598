// gateway.toml's `[shares]`: the accounts' rules, ksmbd's files first boot writes, the
// passwords blanked and their hashes kept on the data partition across boots (ShareFiles).
import FirstBoot
import Foundation
import GatewayCore
import XCTest

extension FirstBootTests {
    static let shares = """
        [box]
        hostname = "hoa-tien"

        [shares]
        # một tài khoản cho cả văn phòng
        van-phong = "Hòa-Tiến-2026"   # đổi sau khi dùng
        ke_toan = "mat-khau-ke-toan"
        """.replacingOccurrences(of: "\n", with: "\r\n")

    func boot(_ text: String) throws -> BootReport {
        try writeBootFile(text, bom: false)
        return boot()
    }
    func hash(_ password: String) -> String { Data(NTHash.of(password)).base64EncodedString() }

    func testTheSharesAreWrittenAndThePasswordsBlanked() throws {
        let report = try boot(Self.shares)
        XCTAssertEqual(report.exitCode, 0, "\(report.issues) \(report.problems)")
        XCTAssertEqual(report.secretsBlanked, ["shares.ke_toan", "shares.van-phong"])

        let conf = try XCTUnwrap(read("/etc/ksmbd/ksmbd.conf"))
        for line in ["[van-ban-di]\n\tcomment = Van ban di: dat tep vao day de gui / documents to send\n\tpath = /var/lib/gatewayd/outbox\n\tread only = no\n",
                     "[van-ban-den]\n\tcomment = Van ban den / incoming documents\n\tpath = /var/lib/gatewayd/inbox\n",
                     "\tforce user = gatewayd-smb\n\tforce group = gatewayd-share\n\tcreate mask = 0660\n",
                     "\tmap to guest = never\n", "\tguest ok = no\n"] {
            XCTAssertTrue(conf.contains(line), line + "\n in \n" + conf)
        }
        XCTAssertFalse(conf.contains("Hòa-Tiến") || conf.contains("mat-khau"), "no password in ksmbd.conf")
        XCTAssertEqual(read("/data/system/smb/ksmbdpwd.db"), "ke_toan:\(hash("mat-khau-ke-toan"))\nvan-phong:\(hash("Hòa-Tiến-2026"))\n")
        var info = stat()
        XCTAssertEqual(lstat(root + "/data/system/smb/ksmbdpwd.db", &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(lstat(root + "/data/system/smb", &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o700, "nobody but root reads the hashes")
        XCTAssertEqual(try daemonConfiguration().shareGroup, "gatewayd-share")
        // Made for the daemon, whose sandbox may not give them the share's group (it adds setgid).
        for folder in ["/var/lib/gatewayd/outbox", "/var/lib/gatewayd/inbox"] {
            XCTAssertEqual(lstat(root + folder, &info), 0, folder)
            XCTAssertEqual(info.st_mode & 0o7777, 0o770, folder)
        }

        let blanked = try String(contentsOfFile: bootFile, encoding: .utf8)
        XCTAssertTrue(blanked.hasSuffix("van-phong = \"\"   # đổi sau khi dùng\r\nke_toan = \"\""), blanked)
        let status = try status().text
        XCTAssertTrue(status.contains("\\\\hoa-tien.local\\van-ban-di, \\\\hoa-tien.local\\van-ban-den; tài khoản / accounts: ke_toan, van-phong"), status)
        XCTAssertFalse(status.contains("mat-khau") || status.contains("Hòa-Tiến-2026"), "no password in the status")

        // Every later boot reads the blanked file: the hashes stay, nothing is rewritten.
        let again = boot()
        XCTAssertEqual(again.exitCode, 0, "\(again.problems)")
        XCTAssertEqual(again.written, [])
        XCTAssertEqual(read("/data/system/smb/ksmbdpwd.db"), "ke_toan:\(hash("mat-khau-ke-toan"))\nvan-phong:\(hash("Hòa-Tiến-2026"))\n")

        // A new password for one account; another account dropped is dropped from the database.
        XCTAssertEqual(try boot("[shares]\nvan-phong = \"\"\nke_toan = \"mat-khau-moi\"\n").exitCode, 0)
        XCTAssertEqual(read("/data/system/smb/ksmbdpwd.db"), "ke_toan:\(hash("mat-khau-moi"))\nvan-phong:\(hash("Hòa-Tiến-2026"))\n")
        XCTAssertEqual(try boot("[shares]\nke_toan = \"\"\n").exitCode, 0)
        XCTAssertEqual(read("/data/system/smb/ksmbdpwd.db"), "ke_toan:\(hash("mat-khau-moi"))\n")

        // No [shares]: no share at all.
        XCTAssertEqual(try boot("[box]\nhostname = \"hoa-tien\"\n").exitCode, 0)
        XCTAssertNil(read("/etc/ksmbd/ksmbd.conf"))
        XCTAssertNil(read("/data/system/smb/ksmbdpwd.db"))
    }

    func testABlankAccountWithNoPasswordYetIsLeftOutWithItsLine() throws {
        let report = try boot("[shares]\nvan-phong = \"12345678\"\n\nthu-quy = \"\"\n")
        XCTAssertEqual(report.exitCode, 1, "not fully applied")
        XCTAssertEqual(report.problems.count, 1)
        XCTAssertTrue(report.problems[0].hasPrefix("dòng / line 4: shares.thu-quy: tài khoản chưa có mật khẩu"), report.problems[0])
        XCTAssertEqual(read("/data/system/smb/ksmbdpwd.db"), "van-phong:\(hash("12345678"))\n", "the others work")
    }

    func testAWrongFileKeepsTheSharesOfTheLastGoodOne() throws {
        XCTAssertEqual(try boot(Self.shares).exitCode, 0)
        let database = read("/data/system/smb/ksmbdpwd.db")
        let report = try boot("[shares]\nvan-phong = \"short\"\n")
        XCTAssertEqual(report.result, .keptLastGood)
        XCTAssertEqual(read("/data/system/smb/ksmbdpwd.db"), database, "the blanked last good file keeps the stored passwords")
        XCTAssertNotNil(read("/etc/ksmbd/ksmbd.conf"))
    }

    /// An `smb/` root did not make (before DataLayout, the daemon could rename root's aside in its
    /// own top directory and leave its own; now a partition changed elsewhere): the next boot
    /// moves such a directory aside in turn and uses none of its hashes — a planted password
    /// never reaches ksmbd.
    func testAUserDatabaseDirectoryThatIsNotRootsOwnIsSetAsideUnused() throws {
        XCTAssertEqual(try boot(Self.shares).exitCode, 0)
        let smb = root + "/data/system/smb"
        var plants: [(String, (String) throws -> Void)] = [
            ("open to others", { XCTAssertEqual(chmod($0, 0o755), 0) }),
            ("a link to another directory", { path in
                try FileManager.default.createDirectory(atPath: path + "-elsewhere", withIntermediateDirectories: false)
                XCTAssertEqual(rename(path + "/ksmbdpwd.db", path + "-elsewhere/ksmbdpwd.db"), 0)
                XCTAssertEqual(rmdir(path), 0)
                XCTAssertEqual(symlink(path + "-elsewhere", path), 0)
            }),
        ]
        if geteuid() == 0 {
            plants.append(("the daemon's (uid 995)", { path in XCTAssertEqual(chown(path, 995, 995), 0); XCTAssertEqual(chown(path + "/ksmbdpwd.db", 995, 995), 0) }))
        }
        for (index, (what, plant)) in plants.enumerated() {
            // The real directory moved aside by the "daemon", one of its own with its password.
            XCTAssertEqual(rename(smb, smb + ".real-\(index)"), 0, what)
            try FileManager.default.createDirectory(atPath: smb, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            try Array("van-phong:\(hash("mat-khau-ke-gian"))\n".utf8).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: smb + "/ksmbdpwd.db")) }
            try plant(smb)

            let report = boot()
            XCTAssertEqual(report.exitCode, 1, what)
            XCTAssertTrue(report.problems.contains { $0.contains("was not root's own 0700 directory") }, "\(what): \(report.problems)")
            XCTAssertEqual(read("/data/system/smb/ksmbdpwd.db"), "", "\(what): no planted hash, and the blanked accounts have none")
            var info = stat()
            XCTAssertEqual(lstat(smb, &info), 0)
            XCTAssertEqual(info.st_mode & S_IFMT, S_IFDIR, what)
            XCTAssertEqual(info.st_mode & 0o7777, 0o700, what)
            if geteuid() == 0 { XCTAssertEqual(info.st_uid, 0, what) }
            let aside = try FileManager.default.contentsOfDirectory(atPath: root + "/data/system").filter { $0.hasPrefix("smb.untrusted-") }
            XCTAssertEqual(aside.count, 1, "\(what): \(aside)")
            for name in aside { XCTAssertEqual(rename(root + "/data/system/" + name, smb + ".seen-\(index)"), 0) }

            // Root's own directory back as it was: the stored hashes are used again.
            try FileManager.default.removeItem(atPath: smb)
            XCTAssertEqual(rename(smb + ".real-\(index)", smb), 0)
            XCTAssertEqual(boot().exitCode, 0, what)
            XCTAssertEqual(read("/data/system/smb/ksmbdpwd.db"), "ke_toan:\(hash("mat-khau-ke-toan"))\nvan-phong:\(hash("Hòa-Tiến-2026"))\n", what)
        }
    }

    func daemonConfiguration() throws -> GatewayConfiguration {
        try ConfigurationLoader.parse(try XCTUnwrap(read("/etc/gatewayd/gatewayd.toml")))
    }
}

extension BootConfigurationRulesTests {
    func testTheNTHashIsMD4OfUTF16() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        // RFC 1320's test suite, one of them over two blocks; then the NT hash everyone quotes.
        XCTAssertEqual(hex(NTHash.md4([])), "31d6cfe0d16ae931b73c59d7e0c089c0")
        XCTAssertEqual(hex(NTHash.md4(Array("abc".utf8))), "a448017aaf21d8525fc10ae87aa6729d")
        XCTAssertEqual(hex(NTHash.md4(Array("message digest".utf8))), "d9130a8164549fe818874806e1c7014b")
        XCTAssertEqual(hex(NTHash.md4(Array(String(repeating: "1234567890", count: 8).utf8))), "e33b4ddc9c38f2199c3e7b164fcc0536")
        XCTAssertEqual(hex(NTHash.of("password")), "8846f7eaee8fb117ad06bdd830b7586c")
    }

    func testAccountRules() throws {
        XCTAssertEqual(issues("[shares]\nVan-Phong = \"12345678\"\n"), ["2 shares.Van-Phong"], "lowercase, as ksmbd compares exactly")
        XCTAssertEqual(issues("[shares]\n\"văn thư\" = \"12345678\"\n"), ["2 shares.văn thư"])
        XCTAssertEqual(issues("\n[shares]\nvan-phong = \"1234567\"\n"), ["3 shares.van-phong"], "8 bytes at least")
        XCTAssertEqual(issues("[shares]\nvan-phong = 12345678\n"), ["2 shares.van-phong"], "a string")
        XCTAssertEqual(issues("shares = \"van-phong\"\n"), ["1 shares"])
        XCTAssertEqual(issues("[share]\ngroup = \"users\"\n[shares]\nvan-phong = \"12345678\"\n"), ["2 share.group"])
        XCTAssertEqual(issues("[shares]\nvan-phong = \"\"\"\n12345678\"\"\"\n"), ["2 shares.van-phong"], "a secret that cannot be blanked safely")

        let boot = try BootConfigurationLoader.parse("[shares]\nvan-phong = \"\"\nke_toan = \"12345678\"\n", path: "-")
        XCTAssertEqual(boot.shareAccounts, [ShareAccount(name: "ke_toan", password: "12345678", line: 3),
                                            ShareAccount(name: "van-phong", password: nil, line: 2)], "blank: the one set before stays")
        XCTAssertEqual(boot.secretKeys, ["shares.ke_toan"])
        XCTAssertEqual(boot.daemon.shareGroup, "gatewayd-share", "the folders must be the share group's")
        XCTAssertEqual(try ConfigurationLoader.parse(boot.daemonTOML), boot.daemon)
        XCTAssertFalse(boot.daemonTOML.contains("shares") || boot.daemonTOML.contains("12345678"), boot.daemonTOML)
        XCTAssertNil(try BootConfigurationLoader.parse("", path: "-").daemon.shareGroup, "no accounts: no group forced")
    }
}

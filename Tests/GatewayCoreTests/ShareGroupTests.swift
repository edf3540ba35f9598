import Foundation
import TestSupport
import XCTest

/// Issue 16: the shared folders have a group of their own (`[share] group`), apart from the
/// daemon's (which reaches the store) and the socket's. Folders the daemon makes — the hot
/// folder, its `rejected/`, the inbox folder — are that group's with mode 2770, so what a Samba
/// user creates inside keeps the group; a link planted at `rejected/` lends its target nothing;
/// a group the box lacks stops the start, said (and `config check` warns).
final class ShareGroupTests: XCTestCase {
    func daemon(share: String, in directory: String) throws -> RunningDaemon {
        try RunningDaemon(config: """
            [intake]
            disk_reserve = 0
            hot_folder = "\(directory)/outbox"
            [inbox]
            folder = "\(directory)/inbox"
            [share]
            group = "\(share)"
            [upstream]
            url = "https://localhost:1"
            ca_file = "\(directory)/no-ca.pem"
            certificate = "\(directory)/no-box.pem"
            key = "\(directory)/no-box.key"
            """)
    }

    func testTheSharedFoldersTheDaemonMakesAreTheShareGroupsAndSetgid() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd: run `swift build` first")
        guard let nogroup = getgrnam("nogroup")?.pointee.gr_gid else { throw XCTSkip("no group \"nogroup\" here") }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let box = try daemon(share: "nogroup", in: directory)
        defer { box.stop() }
        try await box.waitUntilReady()
        for folder in ["outbox", "outbox/rejected", "inbox"] {
            var info = stat()
            XCTAssertEqual(stat(directory + "/" + folder, &info), 0, folder)
            XCTAssertEqual(info.st_gid, nogroup, folder)
            XCTAssertEqual(info.st_mode & 0o7777, 0o2770, folder)
        }
        // What a share user makes inside keeps the group (setgid), whatever their own group.
        XCTAssertEqual(mkdir(directory + "/outbox/phòng-văn-thư", 0o770), 0)
        var inner = stat()
        XCTAssertEqual(stat(directory + "/outbox/phòng-văn-thư", &inner), 0)
        XCTAssertEqual(inner.st_gid, nogroup)
    }

    func testALinkPlantedAtRejectedLendsItsTargetNothing() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd: run `swift build` first")
        try XCTSkipUnless(getgrnam("nogroup") != nil, "no group \"nogroup\" here")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let elsewhere = directory + "/elsewhere"
        XCTAssertEqual(mkdir(elsewhere, 0o700), 0)
        XCTAssertEqual(mkdir(directory + "/outbox", 0o770), 0)
        XCTAssertEqual(symlink(elsewhere, directory + "/outbox/rejected"), 0)
        var before = stat()
        XCTAssertEqual(stat(elsewhere, &before), 0)
        let box = try daemon(share: "nogroup", in: directory)
        defer { box.stop() }
        try await box.waitUntilReady()
        var after = stat()
        XCTAssertEqual(stat(elsewhere, &after), 0)
        XCTAssertEqual(after.st_gid, before.st_gid, "the link's target was given the share's group")
        XCTAssertEqual(after.st_mode & 0o7777, 0o700)
    }

    func testAShareGroupTheBoxLacksStopsTheStart() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd: run `swift build` first")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "[share]\ngroup = \"khong-co-nhom-nay\"\n[console]\nenabled = false\n".write(toFile: directory + "/gatewayd.toml", atomically: true, encoding: .utf8)
        let refused = runProgram(RunningDaemon.binary, ["serve", "--config", directory + "/gatewayd.toml", "--data-dir", directory + "/data"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.err.contains("\"khong-co-nhom-nay\" is not a group on this box") && refused.err.contains("[share] group"), refused.err)
        // `config check` (the unit's ExecStartPre) says so beforehand.
        let check = runProgram(RunningDaemon.binary, ["config", "check", directory + "/gatewayd.toml"])
        XCTAssertTrue(check.out.contains("WARNING: share.group \"khong-co-nhom-nay\" is not a group on this box"), check.out + check.err)
    }

    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gw-share-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

import DurableFiles
import Foundation
import Logging
import Synchronization
import TestSupport
import XCTest
@testable import GatewayCore

/// `[backup]` (docs/backup.md, "Scheduled backups off the box"): backups of a real store into
/// `<data_dir>/backups`, the `keep` newest kept; the newest copied to the stick when it is
/// mounted (after a backup, or when it appears), its own old ones pruned and nothing else on it
/// touched; the schedule counts from the newest backup; the configuration's keys checked.
final class ScheduledBackupsTests: XCTestCase {
    var fixture: StoreFixture!
    /// Whether the test's "stick" counts as mounted.
    final class Flag: Sendable {
        let value = Mutex(false)
    }
    let mounted = Flag()
    let clock = TestClock()
    var stick: String { fixture.directory + "/stick" }

    override func setUpWithError() throws {
        fixture = try StoreFixture()
        try FileManager.default.createDirectory(atPath: stick, withIntermediateDirectories: true)
    }

    override func tearDown() { fixture.close() }

    /// `isMounted`: the flag above unless given (the real check, for a real mount).
    func service(keep: Int = 2, isMounted: (@Sendable (String) -> Bool)? = nil) -> ScheduledBackups {
        var configuration = GatewayConfiguration()
        configuration.dataDirectory = fixture.layout.dataDirectory
        configuration.backup.every = .seconds(86400)
        configuration.backup.keep = keep
        configuration.backup.usbMount = stick
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let (mounted, clock) = (mounted, clock)
        return ScheduledBackups(configuration: configuration, configurationFile: nil, logger: logger,
                                isMounted: isMounted ?? { _ in mounted.value.withLock { $0 } }, now: { clock.now })
    }

    func names(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    func testBackupsAreKeptPrunedAndCopiedToTheStickWhenItIsThere() async throws {
        try await fixture.submit(SamplePDF.bytes("Ủy ban nhân dân"))
        let backups = service()
        let shelf = BackupShelf(dataDirectory: fixture.layout.dataDirectory)
        try Data("ảnh của kỹ thuật viên".utf8).write(to: URL(fileURLWithPath: stick + "/anh.jpg"))

        // No stick: the backup stays on the box.
        var taken = await backups.backUp()
        XCTAssertTrue(taken)
        let first = BackupShelf.name(for: clock.now)
        XCTAssertEqual(shelf.list().map(\.name), [first])
        XCTAssertNoThrow(try BackupReader.verify(path: shelf.directory + "/" + first), "a whole backup")
        XCTAssertEqual(names(stick), ["anh.jpg"])

        // The stick appears: the newest goes onto it.
        mounted.value.withLock { $0 = true }
        await backups.offload()
        XCTAssertEqual(names(stick), ["anh.jpg", first])
        let copied = try Data(contentsOf: URL(fileURLWithPath: stick + "/" + first))
        XCTAssertEqual(copied, try Data(contentsOf: URL(fileURLWithPath: shelf.directory + "/" + first)))

        // Two more days: each backup copied at once, two kept on each side, the stick's photo untouched.
        clock.advance(seconds: 86400)
        taken = await backups.backUp()
        XCTAssertTrue(taken)
        let second = BackupShelf.name(for: clock.now)
        clock.advance(seconds: 86400)
        taken = await backups.backUp()
        XCTAssertTrue(taken)
        let third = BackupShelf.name(for: clock.now)
        XCTAssertEqual(shelf.list().map(\.name), [third, second])
        XCTAssertEqual(names(stick), ["anh.jpg", second, third])
        XCTAssertEqual(shelf.newest?.name, third)
        XCTAssertNoThrow(try BackupReader.verify(path: stick + "/" + third))
    }

    func testTheScheduleTakesTheFirstBackupAtOnce() async throws {
        try await fixture.submit(SamplePDF.bytes())
        let shelf = BackupShelf(dataDirectory: fixture.layout.dataDirectory)
        try POSIXFile.makeDirectory(shelf.directory, mode: 0o700)
        let backups = service()
        let running = Task { await backups.run() }
        defer { running.cancel() }
        XCTAssertTrue(waitUntil(changesIn: shelf.directory, timeout: .seconds(60)) { shelf.list().count == 1 }, "the first backup at once")
    }

    /// A real mount (tmpfs, root only) where the stick goes: the daemon hears the mount table
    /// change (`MountWatcher`) and copies the newest backup onto it.
    func testAStickMountedLaterGetsTheNewestBackup() async throws {
        try XCTSkipUnless(getuid() == 0, "mounts a tmpfs: root only")
        try await fixture.submit(SamplePDF.bytes())
        let backups = service(isMounted: BackupShelf.isMountPoint)
        let shelf = BackupShelf(dataDirectory: fixture.layout.dataDirectory), onStick = BackupShelf(directory: stick)
        let running = Task { await backups.run() }
        defer { running.cancel() }
        try await waitUntil(seconds: 60) { shelf.list().count == 1 }
        XCTAssertEqual(onStick.list().count, 0, "no stick yet")

        let mounted = runProgram("/bin/mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", stick])
        try XCTSkipUnless(mounted.status == 0, "cannot mount here: \(mounted.err)")
        defer { _ = runProgram("/bin/umount", [stick]) }
        try await waitUntil(seconds: 60) { onStick.list().count == 1 }
        XCTAssertEqual(onStick.list().map(\.name), shelf.list().map(\.name))
        XCTAssertNoThrow(try BackupReader.verify(path: try XCTUnwrap(onStick.newest).path))
    }

    func testTheBackupTableIsChecked() throws {
        let good = try ConfigurationLoader.parse("[backup]\nevery = \"24h\"\nkeep = 5\nusb_label = \"GW-BK\"\nusb_mount = \"/media/gw\"\n")
        XCTAssertEqual(good.backup.every, .seconds(86400))
        XCTAssertEqual(good.backup.keep, 5)
        XCTAssertEqual(good.backup.usbLabel, "GW-BK")
        XCTAssertEqual(good.backup.usbMount, "/media/gw")
        XCTAssertNil(try ConfigurationLoader.parse("").backup.every, "off unless set")
        for bad in ["every = \"5m\"", "keep = 0", "usb_label = \"CÓ DẤU\"", "usb_mount = \"relative\"", "usb = \"x\""] {
            XCTAssertThrowsError(try ConfigurationLoader.parse("[backup]\n" + bad + "\n"), bad)
        }
    }
}

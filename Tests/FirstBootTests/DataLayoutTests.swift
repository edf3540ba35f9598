// The data partition's layout (DataLayout): an earlier image's partition moved into gatewayd/ and
// system/ with nothing lost at any point of the move, finished by the next run after a power cut.
import FirstBoot
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class DataLayoutTests: XCTestCase {
    var top = ""
    let now = Date(timeIntervalSince1970: 1_796_500_000)
    let asRoot = geteuid() == 0

    override func setUpWithError() throws {
        top = FileManager.default.temporaryDirectory.path + "/datalayout-\(UUID().uuidString)/data"
        try FileManager.default.createDirectory(atPath: top, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: (top as NSString).deletingLastPathComponent)
    }

    /// A partition as the images before this layout left it: the daemon's files at the top, the
    /// top the daemon's (0771), ksmbd's user database root's 0700 `smb/`.
    func makeOldLayout() throws {
        for directory in ["store/objects/ab", "store/orphans", "run", "outbox", "inbox/VB-1", "ca", "lost+found"] {
            try FileManager.default.createDirectory(atPath: top + "/" + directory, withIntermediateDirectories: true)
        }
        try write("store/gateway.sqlite", "rows")
        try write("store/objects/ab/abcdef", "%PDF-1.4 văn bản")
        try write("inbox/VB-1/van-ban.pdf", "%PDF-1.4 đến")
        try write("enrolment-token", "TOKEN")
        try FileManager.default.createDirectory(atPath: top + "/smb", withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try write("smb/ksmbdpwd.db", "van-phong:hash\n")
        XCTAssertEqual(chmod(top, 0o771), 0)
        if asRoot { XCTAssertEqual(chown(top, 995, 995), 0) }
    }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: top + "/" + name))
    }

    /// Every regular file under the top by its path there, with its bytes.
    func files() -> [String: Data] {
        var found: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: top)
        while let name = enumerator?.nextObject() as? String {
            var info = stat()
            if lstat(top + "/" + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
                found[name] = FileManager.default.contents(atPath: top + "/" + name)
            }
        }
        return found
    }

    /// The files as the old layout named them: `gatewayd/store/…` and `system/smb/…` are `store/…`
    /// and `smb/…`. A file in two places would make two entries of one name: counted.
    func asOldNames(_ files: [String: Data]) -> (names: [String: Data], count: Int) {
        var names: [String: Data] = [:]
        for (name, bytes) in files {
            var old = name
            for prefix in ["gatewayd/", "system/"] where old.hasPrefix(prefix) { old = String(old.dropFirst(prefix.count)) }
            names[old] = bytes
        }
        return (names, files.count)
    }

    func mode(_ name: String) -> mode_t? {
        var info = stat()
        return lstat(name.isEmpty ? top : top + "/" + name, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    func owner(_ name: String) -> uid_t? {
        var info = stat()
        return lstat(name.isEmpty ? top : top + "/" + name, &info) == 0 ? info.st_uid : nil
    }

    func assertLaidOut(_ before: [String: Data], file: StaticString = #filePath, line: UInt = #line) {
        let after = files()
        XCTAssertEqual(Set(after.keys), Set(before.keys.map { $0.hasPrefix("smb/") ? "system/" + $0 : "gatewayd/" + $0 }), file: file, line: line)
        XCTAssertEqual(asOldNames(after).names, before, "every file, with its bytes", file: file, line: line)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: top))?.sorted()
        XCTAssertEqual(names, ["gatewayd", "lost+found", "system"], file: file, line: line)
        XCTAssertEqual(mode(""), 0o755, "the top is root's, not the daemon's", file: file, line: line)
        XCTAssertEqual(mode("system"), 0o755, file: file, line: line)
        XCTAssertEqual(mode("system/smb"), 0o700, file: file, line: line)
        XCTAssertEqual(mode("gatewayd"), 0o771, "the daemon's directory as the old top was", file: file, line: line)
        // Vendors' modules: root's directory, reached from the daemon's default module_dir
        // through the link to its exec mount.
        XCTAssertEqual(mode("system/modules"), 0o755, file: file, line: line)
        XCTAssertEqual(try? FileManager.default.destinationOfSymbolicLink(atPath: top + "/gatewayd/modules"), DataLayout.modulesMount, file: file, line: line)
        if asRoot {
            XCTAssertEqual(owner(""), 0, file: file, line: line)
            XCTAssertEqual(owner("system"), 0, file: file, line: line)
            XCTAssertEqual(owner("system/modules"), 0, file: file, line: line)
            XCTAssertEqual(owner("gatewayd"), 995, file: file, line: line)
        }
    }

    func testAnEarlierImagesPartitionIsMovedInWholeAndASecondRunDoesNothing() throws {
        try makeOldLayout()
        let before = files()
        let report = try DataLayout(top: top).apply(now: now)
        XCTAssertEqual(report.problems, [])
        XCTAssertTrue(report.moved.contains("smb → system/smb"), "\(report.moved)")
        XCTAssertTrue(report.moved.contains("store → gatewayd/store"), "\(report.moved)")
        assertLaidOut(before)
        let again = try DataLayout(top: top).apply(now: now)
        XCTAssertEqual(again.moved, [])
        XCTAssertEqual(again.problems, [])
        assertLaidOut(before)
    }

    /// A power cut after any number of renames (and while a directory was being prepared): every
    /// file is whole in exactly one place, and the next boot's run finishes the layout.
    func testInterruptedAtEveryStepThenRunAgainLosesNothingAndFinishes() throws {
        try makeOldLayout()
        let before = files()
        var limit = 0
        while true {
            try FileManager.default.removeItem(atPath: top)
            try FileManager.default.createDirectory(atPath: top, withIntermediateDirectories: true)
            try makeOldLayout()
            let report = try DataLayout(top: top).apply(now: now, renameLimit: limit)
            let halfway = asOldNames(files())
            XCTAssertEqual(halfway.names, before, "after \(limit) renames: every file, with its bytes")
            XCTAssertEqual(halfway.count, before.count, "after \(limit) renames: each in one place")
            // The crash came between preparing a directory and renaming it into place.
            if mode("gatewayd") == nil { XCTAssertEqual(mkdir(top + "/.preparing-gatewayd", 0o700), 0) }
            let finished = try DataLayout(top: top).apply(now: now)
            XCTAssertEqual(finished.problems, [], "after \(limit) renames")
            assertLaidOut(before)
            if report.moved.count == 7 { break }   // all seven of the old top's entries: no later point to cut at
            limit += 1
            XCTAssertLessThan(limit, 20)
        }
        XCTAssertEqual(limit, 9, "two directories made, seven entries moved")
    }

    func testAUserDatabaseThatIsNotRootsOwnGoesToTheDaemonsSideUnused() throws {
        try makeOldLayout()
        XCTAssertEqual(chmod(top + "/smb", 0o755), 0)
        let report = try DataLayout(top: top).apply(now: now)
        XCTAssertEqual(report.problems.count, 1)
        XCTAssertNil(mode("system/smb"), "root's side has no user database: firstboot writes it again")
        XCTAssertEqual(String(decoding: try XCTUnwrap(FileManager.default.contents(atPath: top + "/gatewayd/smb.untrusted-1796500000/ksmbdpwd.db")), as: UTF8.self),
                       "van-phong:hash\n", "kept, not lost, on the daemon's side")
    }

    /// The old top was the daemon's: it could have made `system/` (its own, or one others may
    /// write), put a link where `gatewayd/` goes, which the bind mount would follow, or one where
    /// a directory is prepared.
    func testWhatTheDaemonCouldHavePlantedAtTheTopIsSetAside() throws {
        try makeOldLayout()
        XCTAssertEqual(mkdir(top + "/system", 0o775), 0)
        XCTAssertEqual(chmod(top + "/system", 0o775), 0)
        if asRoot { XCTAssertEqual(chown(top + "/system", 995, 995), 0) }
        try FileManager.default.createDirectory(atPath: top + "/system/smb", withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try write("system/smb/ksmbdpwd.db", "van-phong:planted\n")
        XCTAssertEqual(symlink("/etc", top + "/gatewayd"), 0)
        XCTAssertEqual(symlink("/etc", top + "/.preparing-system"), 0)
        let report = try DataLayout(top: top).apply(now: now)
        XCTAssertEqual(report.problems.count, 2, "\(report.problems)")
        XCTAssertNotNil(mode("gatewayd/leftover.preparing-system-1796500000"), "a link where a directory is prepared stops nothing")
        XCTAssertEqual(String(decoding: try XCTUnwrap(FileManager.default.contents(atPath: top + "/system/smb/ksmbdpwd.db")), as: UTF8.self),
                       "van-phong:hash\n", "root's own database, not the planted one")
        XCTAssertEqual(mode("gatewayd/system.untrusted-1796500000/smb"), 0o700, "the planted one is the daemon's now")
        var info = stat()
        XCTAssertEqual(lstat(top + "/gatewayd", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFDIR, "a directory, not the link")
        XCTAssertNotNil(mode("gatewayd/gatewayd.not-a-directory-1796500000"))
    }

    func testALaidOutPartitionIsLeftAsItIs() throws {
        for (name, mode) in [("gatewayd", 0o771), ("system", 0o755), ("lost+found", 0o700)] {
            try FileManager.default.createDirectory(atPath: top + "/" + name, withIntermediateDirectories: false, attributes: [.posixPermissions: mode])
        }
        XCTAssertEqual(chmod(top, 0o755), 0)
        try write("gatewayd/enrolment-token", "TOKEN")
        let report = try DataLayout(top: top).apply(now: now)
        XCTAssertEqual(report.moved, [])
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(Set(files().keys), ["gatewayd/enrolment-token"])
    }
}

import Foundation
import TestSupport
@testable import TokenDriver
import XCTest

/// A module is trusted before it is loaded: it and every directory above it root's or this
/// user's, and writable by neither group nor others (PKCS11ModuleTrust). The files are made in a
/// directory whose own chain passes (the build directory, else the home directory): a temporary
/// directory under /tmp never would, /tmp being world-writable.
final class PKCS11ModuleTrustTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = try Self.trustedScratch()
    }

    override func tearDown() {
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// A new 0755 directory in the first of the candidates that the rule itself accepts, or a skip
    /// that says why (a checkout under a group-writable directory).
    static func trustedScratch() throws -> String {
        var refusals: [String] = []
        for base in [repositoryRoot.appendingPathComponent(".build").path, NSHomeDirectory()] {
            let directory = base + "/module-trust-\(UUID().uuidString)"
            guard (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])) != nil else { continue }
            switch PKCS11ModuleTrust.judge(directory) {
            case .trusted: return directory
            case .refused(let reason):
                refusals.append(reason)
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
        throw XCTSkip("no directory here passes the module trust rule: \(refusals)")
    }

    func make(_ name: String, mode: Int = 0o644, in folder: String? = nil) throws -> String {
        let path = (folder ?? directory) + "/" + name
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("module".utf8), attributes: [.posixPermissions: mode]))
        return path
    }

    func folder(_ name: String, mode: Int) throws -> String {
        let path = directory + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        // chmod after mkdir: the umask would take the group and others' write bits away.
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    func refusal(_ path: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        guard case .refused(let reason) = PKCS11ModuleTrust.judge(path) else {
            XCTFail("\(path) was trusted", file: file, line: line)
            return ""
        }
        return reason
    }

    func testAModuleOfTheUserInAFolderOnlyTheyWritePasses() throws {
        let module = try make("libvendor.so")
        XCTAssertEqual(PKCS11ModuleTrust.judge(module), .trusted(realPath: module))
    }

    func testAGroupWritableModuleIsRefusedWithItsModeAndOwner() throws {
        let module = try make("libvendor.so", mode: 0o664)
        let reason = refusal(module)
        XCTAssertTrue(reason.hasPrefix("mô-đun không đáng tin, không nạp / untrusted module, not loaded: \(module)"), reason)
        XCTAssertTrue(reason.contains("tệp \(module) nhóm ghi được / the file \(module) is writable by its group"), reason)
        XCTAssertTrue(reason.contains("mode 664"), reason)
    }

    func testAWorldWritableOrStickyFolderAboveIsRefused() throws {
        for mode in [0o777, 0o1777, 0o775] {
            let above = try folder("shared-\(String(mode, radix: 8))", mode: mode)
            let module = try make("libvendor.so", in: above)
            let reason = refusal(module)
            XCTAssertTrue(reason.contains("directory \(above) is writable by \(mode == 0o775 ? "its group" : "others")"), reason)
            XCTAssertTrue(reason.contains("mode \(String(mode, radix: 8))"), reason)
        }
    }

    func testAModuleOfAnotherUserIsRefused() throws {
        let module = try make("libvendor.so")
        if geteuid() == 0 {
            XCTAssertEqual(chown(module, 12345, 12345), 0)
            XCTAssertTrue(refusal(module).contains("is owned by another user than root or this process's (owner 12345"))
        } else {
            // Not root: the file is ours; judged as another user would judge it.
            guard case .refused(let reason) = PKCS11ModuleTrust.judge(module, effectiveUser: geteuid() + 1) else { return XCTFail("trusted") }
            XCTAssertTrue(reason.contains("owned by another user"), reason)
        }
    }

    func testALinkIsJudgedByWhereItLeads() throws {
        let softHSM = "/usr/lib/softhsm/libsofthsm2.so"
        if FileManager.default.fileExists(atPath: softHSM) {
            let link = directory + "/libsofthsm2.so"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: softHSM)
            guard case .trusted(let real) = PKCS11ModuleTrust.judge(link) else { return XCTFail("\(refusal(link))") }
            XCTAssertEqual(real, URL(fileURLWithPath: softHSM).resolvingSymlinksInPath().path)
        }
        let writable = try folder("writable", mode: 0o777)
        let target = try make("libvendor.so", in: writable)
        let link = directory + "/libvendor.so"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let reason = refusal(link)
        XCTAssertTrue(reason.contains("\(link) → \(target)") && reason.contains("directory \(writable) is writable by others"), reason)
    }

    /// Through the loader: what `token list`, the daemon's status and `config check` show.
    func testTheLoaderRefusesBeforeOpening() throws {
        let libz = "/lib/x86_64-linux-gnu/libz.so.1"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: libz), "needs \(libz)")
        let writable = try folder("writable", mode: 0o777)
        // A real library there (the file, not Debian's link to it): were it opened, the failure
        // would be "no C_GetFunctionList".
        let module = writable + "/libvendor.so"
        try FileManager.default.copyItem(atPath: URL(fileURLWithPath: libz).resolvingSymlinksInPath().path, toPath: module)
        XCTAssertThrowsError(try PKCS11Module.load(path: module)) { error in
            XCTAssertTrue("\(error)".contains("cannot load the PKCS#11 module \(module): mô-đun không đáng tin"), "\(error)")
        }
        XCTAssertTrue(PKCS11ModuleFile.checked(module)?.contains("directory \(writable) is writable by others") == true)
        XCTAssertTrue(PKCS11ModuleReport.scan(modulePath: module).problem?.contains("untrusted module, not loaded") == true)
    }
}

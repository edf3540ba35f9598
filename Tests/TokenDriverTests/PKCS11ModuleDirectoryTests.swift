import Foundation
import TestSupport
@testable import TokenDriver
import XCTest

/// `[tokens] module_dir` against the real thing: SoftHSM2's library copied into a module
/// directory, as a technician copies a CA's module, and named in `[tokens] modules` by its file
/// name alone. `gatewayd doctor` (one scan of its own: the daemon's view without a daemon) lists
/// the token through it; the same copy made group-writable is refused, and said why.
extension SoftHSMTests {
    func testAVendorModuleInTheModuleDirectoryServesUntilOthersCouldWriteIt() throws {
        let gatewayd = repositoryRoot.appendingPathComponent(".build/debug/gatewayd").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: gatewayd), "needs \(gatewayd) (swift build)")
        let scratch = try PKCS11ModuleTrustTests.trustedScratch()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let modules = scratch + "/modules"
        try FileManager.default.createDirectory(atPath: modules, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        // The library itself (Debian's /usr/lib/softhsm/libsofthsm2.so is a link to it), 0644.
        let copy = modules + "/libsofthsm2.so"
        try FileManager.default.copyItem(atPath: URL(fileURLWithPath: Self.module).resolvingSymlinksInPath().path, toPath: copy)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: copy)
        let configuration = scratch + "/gatewayd.toml"
        try """
            data_dir = "\(scratch)/data"

            [tokens]
            module_dir = "\(modules)"
            modules = ["libsofthsm2.so"]
            """.write(toFile: configuration, atomically: true, encoding: .utf8)

        let check = runProgram(gatewayd, ["config", "check", configuration])
        XCTAssertEqual(check.status, 0, check.err)
        XCTAssertTrue(check.out.contains("tokens.modules = libsofthsm2.so → \(copy)\n"), check.out)
        // SOFTHSM2_CONF (setUp's token directory) reaches gatewayd through the environment.
        let served = runProgram(gatewayd, ["doctor", "--config", configuration])
        XCTAssertTrue(served.out.contains("Token \(Self.label) (SoftHSM project SoftHSM v2), pkcs11:token=Nguyen%20Van%20An;serial="), served.out)
        XCTAssertTrue(served.out.contains("served by PKCS#11 \(copy)"), served.out)
        XCTAssertTrue(served.out.contains("CN=Nguyễn Văn An"), "the leader's certificate on it: \(served.out)")

        try FileManager.default.setAttributes([.posixPermissions: 0o664], ofItemAtPath: copy)
        let refused = runProgram(gatewayd, ["doctor", "--config", configuration])
        XCTAssertFalse(refused.out.contains("served by PKCS#11 \(copy)"), refused.out)
        XCTAssertTrue(refused.out.contains("cannot load the PKCS#11 module \(copy): mô-đun không đáng tin, không nạp / untrusted module, not loaded"), refused.out)
        XCTAssertTrue(refused.out.contains("the file \(copy) is writable by its group") && refused.out.contains("mode 664"), refused.out)
        let warned = runProgram(gatewayd, ["config", "check", configuration])
        XCTAssertTrue(warned.out.contains("WARNING: tokens.modules: libsofthsm2.so → \(copy): mô-đun không đáng tin"), warned.out)
    }
}

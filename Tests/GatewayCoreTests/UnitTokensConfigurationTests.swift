import Foundation
import TestSupport
import XCTest
@testable import GatewayCore

/// `[tokens]` and `[[tokens.module_for]]` (issue 18): which PKCS#11 module serves which token.
final class UnitTokensConfigurationTests: XCTestCase {
    func testModulesOpenSCAndPerModelModules() throws {
        let configuration = try ConfigurationLoader.parse("""
            [tokens]
            modules = ["/usr/lib/softhsm/libsofthsm2.so"]
            opensc_module = "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so"

            [[tokens.module_for]]
            name = "VNPT-CA token"
            usb = "096E:0807"
            module = "/var/lib/gatewayd/modules/libvnpt-ca.so"

            [[tokens.module_for]]
            atr = "3b 9f 96 81"
            module = "/var/lib/gatewayd/modules/libbkav.so"
            """)
        XCTAssertEqual(configuration.tokens.modules, ["/usr/lib/softhsm/libsofthsm2.so"])
        XCTAssertEqual(configuration.tokens.openSCModule, "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so")
        XCTAssertEqual(configuration.tokens.moduleFor, [
            .init(usb: "096e:0807", name: "VNPT-CA token", module: "/var/lib/gatewayd/modules/libvnpt-ca.so"),
            .init(atr: "3B9F9681", module: "/var/lib/gatewayd/modules/libbkav.so"),
        ])
        XCTAssertEqual(try ConfigurationLoader.parse("").tokens, GatewayConfiguration.Tokens(), "no [tokens]: OpenSC's default, no module")
    }

    func testEachMistakeIsNamedWithItsKey() {
        let found = configurationIssues("""
            [tokens]
            modules = ["lib/libsofthsm2.so", 3]

            [[tokens.module_for]]
            usb = "96e:807"
            module = "../vendor.so"

            [[tokens.module_for]]
            atr = "3B9G"
            module = "/x.so"

            [[tokens.module_for]]
            module = "/y.so"

            [[tokens.module_for]]
            usb = "096e:0807"
            """)
        let keys = found.map { $0.key ?? "" }
        XCTAssertEqual(keys, ["tokens.modules", "tokens.modules", "tokens.module_for[1].usb", "tokens.module_for[1].module",
                              "tokens.module_for[2].atr", "tokens.module_for[3]", "tokens.module_for[4].module"], "\(found)")
        XCTAssertTrue(found[0].message.contains("mục 1 \"lib/libsofthsm2.so\" là đường dẫn tương đối"), "\(found[0])")
        XCTAssertTrue(found[0].message.contains("item 1 \"lib/libsofthsm2.so\" is a relative path"), "\(found[0])")
        XCTAssertTrue(found[1].message.contains("item 2 must be a file name or path: 3"), "\(found[1])")
        XCTAssertTrue(found[3].message.contains("\"../vendor.so\" is a relative path"), "\(found[3])")
        XCTAssertTrue(found[5].message.contains("needs atr or usb"), "\(found[5])")
    }

    /// A module named alone is that file in `module_dir` (`<data_dir>/modules` by default); an
    /// absolute path stays as written; a relative path with a `/` is refused with its line.
    func testAModuleNamedAloneIsAFileInTheModuleDirectory() throws {
        let named = """
            data_dir = "/srv/gatewayd"

            [tokens]
            opensc_module = "opensc-pkcs11.so"
            modules = ["libsofthsm2.so", "/usr/lib/softhsm/libsofthsm2.so"]
            module_for = [{ module = "libvnpt-ca.so", atr = "3B9F96" }]
            """
        let configuration = try ConfigurationLoader.parse(named)
        XCTAssertEqual(configuration.tokens.modules, ["libsofthsm2.so", "/usr/lib/softhsm/libsofthsm2.so"], "kept as written")
        let resolved = configuration.resolvedTokens
        XCTAssertEqual(resolved.moduleDirectory, "/srv/gatewayd/modules")
        XCTAssertEqual(resolved.modules, ["/srv/gatewayd/modules/libsofthsm2.so", "/usr/lib/softhsm/libsofthsm2.so"])
        XCTAssertEqual(resolved.openSCModule, "/srv/gatewayd/modules/opensc-pkcs11.so")
        XCTAssertEqual(resolved.moduleFor.map(\.module), ["/srv/gatewayd/modules/libvnpt-ca.so"])
        // `--data-dir` replaces data_dir after reading: the default module_dir follows it.
        var moved = configuration
        moved.dataDirectory = "/data/gatewayd"
        XCTAssertEqual(moved.resolvedTokens.modules.first, "/data/gatewayd/modules/libsofthsm2.so")
        let set = try ConfigurationLoader.parse(named.replacingOccurrences(of: "[tokens]\n", with: "[tokens]\nmodule_dir = \"/opt/ca-modules\"\n"))
        XCTAssertEqual(set.resolvedTokens.modules, ["/opt/ca-modules/libsofthsm2.so", "/usr/lib/softhsm/libsofthsm2.so"])

        let found = configurationIssues("""
            [tokens]
            module_dir = "modules"
            modules = ["../libsofthsm2.so"]
            opensc_module = "lib/opensc-pkcs11.so"
            """)
        XCTAssertEqual(found.map { $0.key ?? "" }, ["tokens.module_dir", "tokens.modules", "tokens.opensc_module"], "\(found)")
        XCTAssertEqual(found.map(\.line), [2, 3, 4], "\(found)")
        XCTAssertTrue(found[1].description.contains("line 3") && found[1].message.contains("\"../libsofthsm2.so\" is a relative path"), "\(found[1])")
    }

    /// `gatewayd config check`: each module that cannot serve is a warning with its reason (the
    /// file is still valid: the daemon starts and serves the other tokens).
    func testConfigCheckWarnsAboutEachModuleThatCannotServe() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd")
        let directory = NSTemporaryDirectory() + "tokens-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "not a module\n".write(toFile: directory + "/text.so", atomically: true, encoding: .utf8)
        try """
            [tokens]
            modules = ["\(directory)/missing.so", "\(directory)/text.so"]
            opensc_module = "\(directory)/no-opensc.so"

            [[tokens.module_for]]
            name = "VNPT-CA token"
            usb = "096e:0807"
            module = "/lib/x86_64-linux-gnu/libc.so.6"
            """.write(toFile: directory + "/gatewayd.toml", atomically: true, encoding: .utf8)
        let result = runProgram(RunningDaemon.binary, ["config", "check", directory + "/gatewayd.toml"])
        XCTAssertEqual(result.status, 0, result.err)
        let expected = [
            "WARNING: tokens.modules: không có tệp / no such file: \(directory)/missing.so",
            "WARNING: tokens.modules: không phải thư viện ELF, không phải mô-đun PKCS#11 / not an ELF library, so not a PKCS#11 module: \(directory)/text.so",
            "WARNING: tokens.module_for[1] (VNPT-CA token, usb 096e:0807): không có C_GetFunctionList",
            "NOTE: OpenSC's module \(directory)/no-opensc.so is not installed",
        ]
        XCTAssertEqual(expected.filter { !result.out.contains($0) }, [], "missing from:\n\(result.out)")
    }
}

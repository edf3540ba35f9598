import Foundation
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
            modules = ["libsofthsm2.so", 3]

            [[tokens.module_for]]
            usb = "96e:807"
            module = "vendor.so"

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
        XCTAssertTrue(found[0].message.contains("đường dẫn tuyệt đối / item 1 must be an absolute path"), "\(found[0])")
        XCTAssertTrue(found[5].message.contains("needs atr or usb"), "\(found[5])")
    }
}

import Foundation
@testable import HubCore
import XCTest

/// The rules for a forwarded client certificate (docs/hubd.md, "Behind nginx"), without a
/// network: who may forward and what a forwarded value must look like (`[proxy]` in the
/// configuration: UnitHubRulesTests). Verification against the CA runs against real
/// certificates in NginxTests.
final class UnitForwardedIdentityTests: XCTestCase {
    let proxy = "proxy.hub.quangtri.gov.vn"
    let rules = ForwardedIdentity(proxyCodes: ["proxy.hub.quangtri.gov.vn"], clientRoots: [])

    func testOnlyAProxyMayForwardAndMustForwardExactlyOne() throws {
        XCTAssertEqual(try rules.decide(connectionCommonName: "000.00.20.H13", headerValues: []), .direct)
        XCTAssertEqual(try rules.decide(connectionCommonName: nil, headerValues: []), .direct)
        for (name, values) in [("000.00.20.H13", ["x"]), ("000.00.20.H14", [""]), (proxy, []), (proxy, [""]), (proxy, ["a", "b"]), (proxy, ["%%"])] {
            XCTAssertThrowsError(try rules.decide(connectionCommonName: name, headerValues: values), "\(name) \(values)") {
                XCTAssertEqual(($0 as? HubError)?.code, .forwardedIdentity)
                XCTAssertEqual(($0 as? HubError)?.code.httpStatus, 403)
            }
        }
    }

    func testNoProxyConfiguredReadsNoCAAndHonoursNoHeader() throws {
        let none = try ForwardedIdentity(proxyCodes: [], clientCAFile: "/nonexistent")
        XCTAssertThrowsError(try none.decide(connectionCommonName: proxy, headerValues: ["x"]))
        XCTAssertThrowsError(try ForwardedIdentity(proxyCodes: [proxy], clientCAFile: "/nonexistent/ca.pem").clientRoots)
    }

    func testTheForwardedValueIsOnePercentEncodedPEMCertificate() throws {
        for bad in ["", "not a certificate", "-----BEGIN CERTIFICATE-----%0A-----END CERTIFICATE-----",
                    "-----BEGIN PRIVATE KEY-----%0AMAA=%0A-----END PRIVATE KEY-----"] {
            XCTAssertThrowsError(try ForwardedIdentity.certificate(escapedPEM: bad), bad) {
                XCTAssertEqual(($0 as? HubError)?.code, .forwardedIdentity)
            }
        }
    }

    /// docs/hubd.md shows the very server block NginxTests runs.
    func testTheDocumentedServerBlockIsThePackagedOne() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let packaged = try String(contentsOf: root.appendingPathComponent("packaging/nginx-hubd.conf"), encoding: .utf8)
        let documented = try String(contentsOf: root.appendingPathComponent("docs/hubd.md"), encoding: .utf8)
        XCTAssertTrue(documented.contains("```nginx\n" + packaged + "```"), "docs/hubd.md differs from packaging/nginx-hubd.conf")
    }
}

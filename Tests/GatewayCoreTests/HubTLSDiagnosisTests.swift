import Foundation
import TestSupport
import XCTest
@testable import GatewayCore

/// The diagnosis handshake against a hub that is not there (down, or restarting after a kill):
/// no finding, and no crash. Its first version left a promise pending when the connection itself
/// failed, which NIO traps on; CI found it when hubd was killed during a TLS handshake.
final class HubTLSDiagnosisTests: XCTestCase {
    func testNoHubListeningGivesNoFindingAndDoesNotTrap() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("diagnosis-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let made = runProgram("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                                   "-keyout", directory + "/box.key", "-out", directory + "/box.pem", "-days", "2",
                                                   "-subj", "/CN=000.00.20.H13"])
        XCTAssertEqual(made.status, 0, made.err)
        var upstream = GatewayConfiguration.Upstream()
        upstream.url = "https://localhost:\(freeLoopbackPort())"
        upstream.caFile = directory + "/box.pem"
        upstream.certificateFile = directory + "/box.pem"
        upstream.keyFile = directory + "/box.key"
        let settings = try RelayClient.Settings(upstream)
        for _ in 0..<3 {
            let finding = await HubTLSDiagnosis.diagnose(settings: settings)
            XCTAssertNil(finding, "nothing to say about a certificate nobody presented")
        }
    }
}

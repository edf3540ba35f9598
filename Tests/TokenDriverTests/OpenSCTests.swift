import Foundation
import TestSupport
import XCTest

/// The virtual card judged by an independent PIV implementation: OpenSC's PKCS#11 module signs
/// through it with pkcs11-tool and openssl verifies (scripts/check-opensc, on the second virtual
/// reader), with extended APDUs refused, for RSA-2048, P-256 and P-384 keys in every slot.
final class OpenSCTests: XCTestCase {
    func testPkcs11ToolSignsThroughTheVirtualCardAndOpenSSLVerifies() throws {
        _ = try VirtualCard.requirements()
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so")
                          && FileManager.default.isExecutableFile(atPath: "/usr/bin/pkcs11-tool"), "needs opensc (apt-get install opensc)")
        let script = repositoryRoot.appendingPathComponent("scripts/check-opensc").path
        let configurations = [
            ["--9a", "rsa2048", "--9c", "p256"],
            ["--9a", "p256", "--9c", "rsa2048"],
            ["--9a", "p384", "--9c", "p384", "--9d", "rsa2048", "--9e", "p256"],
        ]
        for configuration in configurations {
            let result = runProgram("/bin/bash", [script, "--no-extended", "--pin", VirtualCard.pin] + configuration)
            print(result.out)
            XCTAssertEqual(result.status, 0, "\(configuration): \(result.out) \(result.err)")
            let verified = result.out.split(separator: "\n").filter { $0.contains("verified by openssl") || $0.contains("matches openssl") }
            XCTAssertEqual(verified.count, configuration.count / 2, "one verified check per slot: \(result.out)")
        }
    }
}

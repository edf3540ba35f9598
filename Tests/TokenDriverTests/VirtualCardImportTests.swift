import Foundation
import Signing
import TestSupport
import XCTest
@testable import TokenDriver

/// The virtual card carrying a test CA's certificates (`--import-9c KEY:CERT`, made by
/// scripts/lib/testpki.py `signing`): the token commands show the leader's Vietnamese subject, and
/// the card signs with the imported key.
final class VirtualCardImportTests: XCTestCase {
    static let gatewayd = repositoryRoot.appendingPathComponent(".build/debug/gatewayd").path
    static let gatewayToken = repositoryRoot.appendingPathComponent(".build/debug/gateway-token").path
    static let testPKI = repositoryRoot.appendingPathComponent("scripts/lib/testpki.py").path

    var card: VirtualCard?
    var context: PCSCContext!

    override func setUp() async throws { context = try VirtualCard.requirements() }
    /// Directories made for one test, removed after it.
    var directories: [String] = []

    override func tearDown() async throws {
        card?.remove(context)
        for directory in directories { try? FileManager.default.removeItem(atPath: directory) }
    }

    func temporaryDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("signing-pki-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        directories.append(directory)
        return directory
    }

    func makeSigningPKI() throws -> String {
        let directory = try temporaryDirectory()
        let made = runProgram("/usr/bin/env", ["python3", Self.testPKI, "signing", directory])
        XCTAssertEqual(made.status, 0, made.err)
        return directory
    }

    func testAnImportedLeaderCertificateIsListedAndItsKeySigns() throws {
        for program in [Self.gatewayd, Self.gatewayToken] {
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: program), "needs \(program) (swift build)")
        }
        let pki = try makeSigningPKI()
        // The expired certificate is expired, the others chain to the CA (openssl judges).
        XCTAssertEqual(runProgram("/usr/bin/openssl", ["verify", "-CAfile", "\(pki)/ca.pem", "\(pki)/leader.pem", "\(pki)/organization.pem",
                                                       "\(pki)/other-organization.pem"]).status, 0)
        let expired = runProgram("/usr/bin/openssl", ["verify", "-CAfile", "\(pki)/ca.pem", "\(pki)/leader-expired.pem"])
        XCTAssertTrue(expired.out.contains("expired") || expired.err.contains("expired"), expired.out + expired.err)

        card = try VirtualCard(["--no-extended", "--import-9c", "\(pki)/leader.key:\(pki)/leader.pem"])
        try VirtualReader.connectWhenPresent(context).disconnect()
        let listed = runProgram(Self.gatewayd, ["token", "list", "--json"])
        XCTAssertEqual(listed.status, 0, listed.err)
        let reports = try JSONDecoder().decode([TokenReportProbe].self, from: Data(listed.out.utf8))
        let signature = try XCTUnwrap(reports.first { $0.card_present && $0.piv }?.certificates.first { $0.slot == "9c" })
        // UID shows as its OID (swift-certificates knows no short name for it).
        for part in ["CN=Nguyễn Văn An", "CCCD:001085012345", "O=UBND xã Hòa Tiến", "C=VN"] {
            XCTAssertTrue(signature.subject.contains(part), "\(part) in \(signature.subject)")
        }
        let text = runProgram(Self.gatewayToken, ["list"])
        XCTAssertTrue(text.out.contains("slot 9c: ") && text.out.contains("CN=Nguyễn Văn An"), "[\(text.out)] [\(text.err)]")

        // The card's 9C key is the imported one: its signature verifies with leader.pem's key.
        let message = card!.directory + "/tờ trình.txt"
        try "Tờ trình số 07/TTr-UBND".write(toFile: message, atomically: true, encoding: .utf8)
        let signer = try PIVSigner(reader: try VirtualReader.reader(context), slot: .signature) { try PIN(VirtualCard.pin) }
        let signed = card!.directory + "/signature.der"
        try Data(try signer.signNow(digest: try FileDigest.compute(path: message, algorithm: .sha256), algorithm: .ecdsaSHA256))
            .write(to: URL(fileURLWithPath: signed))
        XCTAssertEqual(runProgram("/usr/bin/openssl", ["x509", "-in", "\(pki)/leader.pem", "-pubkey", "-noout", "-out", "\(pki)/leader.pub"]).status, 0)
        let verified = runProgram("/usr/bin/openssl", ["dgst", "-sha256", "-verify", "\(pki)/leader.pub", "-signature", signed, message])
        XCTAssertEqual(verified.status, 0, verified.out + verified.err)
    }

    /// A certificate that is not the key's is refused before the card goes in the reader.
    func testAKeyAndAnotherKeysCertificateAreRefused() throws {
        let pki = try makeSigningPKI()
        let directory = try temporaryDirectory()
        let refused = runProgram("/usr/bin/env", ["python3", VirtualCard.emulatorPath, "--dir", directory, "--port", "1",
                                                  "--import-9c", "\(pki)/organization.key:\(pki)/leader.pem"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.err.contains("is not the certificate of"), refused.err)
    }
}

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

    /// `gatewayd edxml pack --signer token:9c` with the leader's certificate on the card: xmlsec1
    /// checks the package against the test CA; a wrong PIN writes no package and costs one try.
    func testAnEdXMLPackageSignedOnTheTokenVerifiesWithXMLSec1() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.gatewayd), "needs \(Self.gatewayd) (swift build)")
        let pki = try makeSigningPKI()
        card = try VirtualCard(["--no-extended", "--import-9c", "\(pki)/leader.key:\(pki)/leader.pem"])
        try VirtualReader.connectWhenPresent(context).disconnect()
        let directory = card!.directory
        let decision = directory + "/Quyết định 01.pdf"
        try Data((0..<30_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: decision))
        try (VirtualCard.pin + "\n").write(toFile: directory + "/pin", atomically: true, encoding: .utf8)
        try (VirtualCard.wrongPIN + "\n").write(toFile: directory + "/wrong", atomically: true, encoding: .utf8)
        let reader = try VirtualReader.reader(context)
        func pack(_ out: String, pinFile: String) -> (status: Int32, out: String, err: String) {
            runProgram(Self.gatewayd, ["edxml", "pack", "--from", "000.00.20.H13", "--from-name", "UBND xã Hòa Tiến", "--to", "000.00.00.H41",
                                       "--subject", "Về việc phân công nhiệm vụ", "--number", "01", "--notation", "QĐ-UBND",
                                       "--signer-name", "Nguyễn Văn An", "--signer-position", "Chủ tịch", decision, "--out", out,
                                       "--signer", "token:9c", "--reader", reader, "--pin-file", pinFile])
        }
        let package = directory + "/goi tin.edxml"
        let packed = pack(package, pinFile: directory + "/pin")
        XCTAssertEqual(packed.status, 0, packed.err)
        let verified = runProgram(Self.gatewayd, ["edxml", "verify", package, "--trust", "\(pki)/ca.pem"])
        XCTAssertEqual(verified.status, 0, verified.out + verified.err)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/xmlsec1") {
            let judged = runProgram("/usr/bin/xmlsec1", ["--verify", "--trusted-pem", "\(pki)/ca.pem", package])
            XCTAssertEqual(judged.status, 0, "xmlsec1: \(judged.err)")
        }

        let refused = pack(directory + "/refused.edxml", pinFile: directory + "/wrong")
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.err.contains("2 tries left"), refused.err)
        XCTAssertFalse((refused.out + refused.err).contains(VirtualCard.wrongPIN), "the PIN appeared in the output")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/refused.edxml"), "no package without its signature")
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/state.json"))) as? [String: Any]
        XCTAssertEqual(state?["tries"] as? Int, 2, "one try spent")
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

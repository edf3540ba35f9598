import DocumentSigning
import Foundation
import Signing
import TestSupport
import XCTest

/// `gatewayd verify` and `DocumentVerifier` on signatures made by others (pyHanko, `openssl cms`)
/// and by us: valid ones are valid, a flipped byte is invalid, a foreign root is untrusted, and a
/// signature of an earlier revision says so. Needs openssl and python3 with pyhanko.
final class VerificationTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("verify-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory, ProcessInfo.processInfo.environment["VERIFY_KEEP"] == nil { try? FileManager.default.removeItem(atPath: directory) }
    }

    static var python: String? {
        ["/usr/bin/python3", "/usr/local/bin/python3", ProcessInfo.processInfo.environment["HOME"].map { "\($0)/.pyenv/shims/python3" }]
            .compactMap { $0 }
            .first { FileManager.default.isExecutableFile(atPath: $0) && runProgram($0, ["-c", "import pyhanko"]).status == 0 }
    }

    static var gatewayd: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("gatewayd").path
    }

    func openssl(_ arguments: [String]) -> (status: Int32, out: String, err: String) { runProgram("/usr/bin/openssl", arguments) }

    typealias Chain = TestPKI.Signer

    /// A root and a signer under it; `name` keeps two PKIs apart.
    func makeChain(_ name: String, rsa: Bool = true) throws -> Chain {
        try TestPKI(directory: directory, name: "\(name)-root", subject: "/CN=\(name) Root CA")
            .issue(name, subject: "/CN=Nguyễn Văn An \(name)/O=UBND xã Hòa Tiến", key: rsa ? .rsa2048 : .p384)
    }

    func testPDF(_ name: String) throws -> String {
        let path = "\(directory!)/\(name).pdf"
        try Data(TestPDF.threePages().bytes(.table)).write(to: URL(fileURLWithPath: path))
        return path
    }

    func flipByte(_ path: String, at offset: Int) throws -> String {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[offset] ^= 0x01
        let flipped = path.replacingOccurrences(of: ".pdf", with: "-flipped.pdf")
        try bytes.write(to: URL(fileURLWithPath: flipped))
        return flipped
    }

    func verify(_ arguments: [String]) throws -> (status: Int32, out: String, err: String, json: [String: Any]) {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: Self.gatewayd), "needs \(Self.gatewayd): swift build first")
        let result = runProgram(Self.gatewayd, ["verify"] + arguments + ["--json"])
        let json = (try? JSONSerialization.jsonObject(with: Data(result.out.utf8))) as? [String: Any] ?? [:]
        return (result.status, result.out, result.err, json)
    }

    func verdicts(_ json: [String: Any]) -> [String] {
        ((json["signatures"] as? [[String: Any]]) ?? []).compactMap { $0["verdict"] as? String }
    }

    // MARK: PDFs

    func testPyHankoSignedPDFIsValidAndTrusted() async throws {
        let python = try XCTUnwrap(Self.python, "needs python3 with pyhanko (scripts/install-deps)")
        let chain = try makeChain("hanko")
        let input = try testPDF("plain"), output = "\(directory!)/pyhanko.pdf"
        let made = runProgram(python, ["-c", """
            from pyhanko.sign import signers
            from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
            s = signers.SimpleSigner.load('\(chain.key)', '\(chain.chain)')
            with open('\(input)', 'rb') as i, open('\(output)', 'wb') as o:
                signers.sign_pdf(IncrementalPdfFileWriter(i), signers.PdfSignatureMetadata(field_name='PyHanko'), signer=s, output=o)
            """])
        XCTAssertEqual(made.status, 0, made.err)

        // The library directly.
        let roots = try DocumentVerifier.trustAnchors(pemFile: chain.root)
        let report = try await DocumentVerifier.verify(path: output, trustRoots: roots)
        XCTAssertEqual(report.verdict, .valid, report.text)
        XCTAssertEqual(report.signatures.count, 1)
        XCTAssertEqual(report.signatures.first?.coversWholeFile, true)
        XCTAssertEqual(report.signatures.first?.checks.first { $0.name == "revocation" }?.outcome, .notChecked)

        // The command line, with and without trust anchors.
        let trusted = try verify([output, "--trust", chain.root])
        XCTAssertEqual(trusted.status, 0, trusted.out + trusted.err)
        XCTAssertEqual(trusted.json["verdict"] as? String, "valid")
        let text = runProgram(Self.gatewayd, ["verify", output])
        XCTAssertEqual(text.status, 0, text.out + text.err)
        XCTAssertTrue(text.out.contains("not checked against a trust anchor"), text.out)
        XCTAssertTrue(text.out.contains("không kiểm tra được thu hồi / the certificate names no OCSP responder or CRL: revocation not checked"), text.out)
        XCTAssertTrue(text.out.contains("Kết luận / Overall: hợp lệ / valid"), text.out)

        // A byte flipped inside the first signed range (the header comment) → invalid.
        let flipped = try flipByte(output, at: 12)
        let broken = try verify([flipped, "--trust", chain.root])
        XCTAssertEqual(broken.status, 1)
        XCTAssertEqual(verdicts(broken.json), ["invalid"], broken.out)

        // Another root as trust anchor → untrusted.
        let other = try makeChain("other")
        let untrusted = try verify([output, "--trust", other.root])
        XCTAssertEqual(untrusted.status, 1)
        XCTAssertEqual(untrusted.json["verdict"] as? String, "untrusted", untrusted.out)
    }

    func testOurPDFSignedTwiceBothValidFirstCoversAnEarlierRevision() async throws {
        let leaderChain = try makeChain("leader")
        let organizationChain = try makeChain("organization", rsa: false)
        let leader = try SoftwareKeySigner(keyFile: leaderChain.key, chainFile: leaderChain.chain)
        let organization = try SoftwareKeySigner(keyFile: organizationChain.key, chainFile: organizationChain.chain)
        let input = try testPDF("original")
        let once = "\(directory!)/once.pdf", twice = "\(directory!)/twice.pdf"
        _ = try await PAdESSigner.sign(input: input, output: once, signer: leader, algorithm: .rsaPSSSHA256)
        let second = try await PAdESSigner.sign(input: once, output: twice, signer: organization, algorithm: .ecdsaSHA384)

        let roots = try DocumentVerifier.trustAnchors(pemFile: leaderChain.root) + DocumentVerifier.trustAnchors(pemFile: organizationChain.root)
        let report = try await DocumentVerifier.verify(path: twice, trustRoots: roots)
        XCTAssertEqual(report.signatures.map(\.verdict), [.valid, .valid], report.text)
        XCTAssertEqual(report.verdict, .valid)
        let first = try XCTUnwrap(report.signatures.first), last = try XCTUnwrap(report.signatures.last)
        XCTAssertEqual(first.coversWholeFile, false)
        XCTAssertEqual(first.coveredRevision, 2)  // the original, then our first update
        XCTAssertEqual(first.totalRevisions, 3)
        XCTAssertTrue(first.checks.contains { $0.name == "coverage" && $0.message.contains("later changes exist") }, report.text)
        XCTAssertEqual(last.coversWholeFile, true)
        XCTAssertEqual(first.signatureAlgorithm, "RSASSA-PSS SHA-256")
        XCTAssertEqual(last.signatureAlgorithm, "ECDSA SHA-384")
        XCTAssertEqual(first.signingTimeSource, "pdf-M")

        // Through the command line, trusting both roots in one PEM file.
        let bothRoots = "\(directory!)/roots.pem"
        try (String(contentsOfFile: leaderChain.root, encoding: .utf8) + String(contentsOfFile: organizationChain.root, encoding: .utf8))
            .write(toFile: bothRoots, atomically: true, encoding: .utf8)
        let cli = try verify([twice, "--trust", bothRoots])
        XCTAssertEqual(cli.status, 0, cli.out + cli.err)
        XCTAssertEqual(verdicts(cli.json), ["valid", "valid"])

        // A byte flipped in the part only the second signature covers: the first stays valid.
        let lateOffset = second.byteRange[1] - 40  // inside the second update, before its /Contents
        let flipped = try flipByte(twice, at: lateOffset)
        let broken = try await DocumentVerifier.verify(path: flipped, trustRoots: roots)
        XCTAssertEqual(broken.signatures.last?.verdict, .invalid, broken.text)
        XCTAssertEqual(broken.verdict, .invalid)
        // Only the leader's root: the organization's signature is untrusted.
        let partial = try await DocumentVerifier.verify(path: twice, trustRoots: try DocumentVerifier.trustAnchors(pemFile: leaderChain.root))
        XCTAssertEqual(partial.signatures.map(\.verdict), [.valid, .untrusted], partial.text)
    }

    func testUnsignedPDFIsNotValid() async throws {
        let report = try await DocumentVerifier.verify(path: try testPDF("unsigned"), trustRoots: nil)
        XCTAssertEqual(report.verdict, .indeterminate)
        XCTAssertFalse(report.allValid)
    }

    // MARK: .p7s

    func testOpenSSLDetachedSignatureValidAndTamperedInvalid() async throws {
        for rsa in [true, false] {
            let chain = try makeChain(rsa ? "cms-rsa" : "cms-ec", rsa: rsa)
            let content = "\(directory!)/van-ban-\(rsa).docx"
            try Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: content))
            let p7s = content + ".p7s"
            let signed = openssl(["cms", "-sign", "-binary", "-outform", "DER", "-in", content, "-signer", chain.chain, "-inkey", chain.key,
                                  "-md", rsa ? "sha256" : "sha384", "-out", p7s])
            XCTAssertEqual(signed.status, 0, signed.err)

            let valid = try verify([p7s, "--trust", chain.root])
            XCTAssertEqual(valid.status, 0, valid.out + valid.err)
            XCTAssertEqual(verdicts(valid.json), ["valid"], valid.out)

            let report = try await DocumentVerifier.verify(path: p7s, trustRoots: nil)
            XCTAssertEqual(report.verdict, .valid, report.text)
            XCTAssertEqual(report.signatures.first?.signingTimeSource, "cms-signing-time")

            // Tampered content, given with --content.
            var tampered = try Data(contentsOf: URL(fileURLWithPath: content))
            tampered[100_000] ^= 0xFF
            let tamperedPath = "\(directory!)/tampered-\(rsa).docx"
            try tampered.write(to: URL(fileURLWithPath: tamperedPath))
            let invalid = try verify([p7s, "--content", tamperedPath, "--trust", chain.root])
            XCTAssertEqual(invalid.status, 1)
            XCTAssertEqual(verdicts(invalid.json), ["invalid"], invalid.out)
            let integrity = ((invalid.json["signatures"] as? [[String: Any]])?.first?["checks"] as? [[String: Any]])?
                .first { $0["name"] as? String == "integrity" }
            XCTAssertEqual(integrity?["outcome"] as? String, "failed")
        }
    }

    func testSHA1IsReportedWeak() async throws {
        let chain = try makeChain("sha1")
        let content = "\(directory!)/old.txt"
        try "văn bản cũ".write(toFile: content, atomically: true, encoding: .utf8)
        let signed = openssl(["cms", "-sign", "-binary", "-outform", "DER", "-in", content, "-signer", chain.chain, "-inkey", chain.key,
                              "-md", "sha1", "-out", content + ".p7s"])
        try XCTSkipIf(signed.status != 0, "this openssl refuses SHA-1 signatures: \(signed.err)")
        let report = try await DocumentVerifier.verify(path: content + ".p7s", trustRoots: nil)
        XCTAssertEqual(report.verdict, .indeterminate, report.text)
        XCTAssertTrue(report.text.contains("weak algorithm (SHA-1)"), report.text)
    }

    // MARK: Pure parts

    func testGarbageSignatureIsInvalidNotACrash() async throws {
        let content = "\(directory!)/x.txt"
        try "x".write(toFile: content, atomically: true, encoding: .utf8)
        for garbage: [UInt8] in [[], [0x30], [0x30, 0x80, 0, 0], [0x30, 0x03, 0x02, 0x01, 0x01], Array(repeating: 0xFF, count: 64)] {
            try Data(garbage).write(to: URL(fileURLWithPath: content + ".p7s"))
            let report = try await DocumentVerifier.verify(path: content + ".p7s", trustRoots: nil)
            XCTAssertEqual(report.verdict, .invalid, report.text)
        }
    }
}

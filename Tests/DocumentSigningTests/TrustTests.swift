import DocumentSigning
import Foundation
import Signing
import TestSupport
import TrustHTTP
import X509
import XCTest

/// Revocation (OCSP), the checks before signing and RFC 3161 timestamps, against real peers:
/// `openssl ocsp` as the responder (one good, one revoked certificate, and one whose responder
/// is a closed port), `openssl ts -reply` behind tools/test-tsa as the TSA, and pyHanko and
/// `openssl ts -verify` as independent judges of the timestamps. Needs openssl and python3
/// (pyhanko for the PDF judge).
final class TrustTests: XCTestCase {
    var directory: String!
    var pki: TestPKI!
    var responder: BackgroundProgram?
    var good: TestPKI.Signer!, revoked: TestPKI.Signer!, offline: TestPKI.Signer!
    var ocspPort = 0, closedPort = 0

    static var gatewayd: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("gatewayd").path
    }

    static var python: String? {
        ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A python3 with pyHanko (and so asn1crypto), the timestamps' judges.
    static var pythonWithPyHanko: String? {
        ["/usr/bin/python3", "/usr/local/bin/python3", ProcessInfo.processInfo.environment["HOME"].map { "\($0)/.pyenv/shims/python3" }]
            .compactMap { $0 }
            .first { FileManager.default.isExecutableFile(atPath: $0) && runProgram($0, ["-c", "import pyhanko, asn1crypto"]).status == 0 }
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("trust-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        pki = try TestPKI(directory: directory, name: "root", key: .rsa2048)
        ocspPort = freeLoopbackPort()
        closedPort = freeLoopbackPort()
        good = try pki.issue("good", subject: "/CN=Nguyễn Văn An/O=UBND xã Hòa Tiến", key: .rsa2048,
                             extensions: TestPKI.signingExtensions(ocsp: "http://127.0.0.1:\(ocspPort)"))
        revoked = try pki.issue("revoked", subject: "/CN=Trần Thị Bình/O=UBND xã Hòa Tiến", key: .p256,
                                extensions: TestPKI.signingExtensions(ocsp: "http://127.0.0.1:\(ocspPort)"))
        offline = try pki.issue("offline", subject: "/CN=Lê Văn Cường/O=UBND xã Hòa Tiến", key: .rsa2048,
                                extensions: TestPKI.signingExtensions(ocsp: "http://127.0.0.1:\(closedPort)",
                                                                      crl: "http://127.0.0.1:\(closedPort)/root.crl"))
    }

    override func tearDownWithError() throws {
        responder?.stop()
        responder = nil
        if let directory, ProcessInfo.processInfo.environment["TRUST_KEEP"] == nil { try? FileManager.default.removeItem(atPath: directory) }
    }

    func startResponder() throws {
        responder = try pki.startOCSPResponder(indexLines: [
            try pki.indexLine(for: good.chain, revoked: false), try pki.indexLine(for: revoked.chain, revoked: true),
        ], port: ocspPort)
    }

    func certificate(_ path: String) throws -> Certificate {
        try Certificate(pemEncoded: String(contentsOfFile: path, encoding: .utf8))
    }

    func gatewayd(_ arguments: [String]) -> (status: Int32, out: String, err: String) {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: Self.gatewayd), "needs \(Self.gatewayd): swift build first")
        return runProgram(Self.gatewayd, arguments)
    }

    func testPDF(_ name: String) throws -> String {
        let path = "\(directory!)/\(name).pdf"
        try Data(TestPDF.threePages().bytes(.table)).write(to: URL(fileURLWithPath: path))
        return path
    }

    func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    func signatures(_ text: String) -> [[String: Any]] { (json(text)["signatures"] as? [[String: Any]]) ?? [] }

    // MARK: Revocation (OCSP)

    func testOCSPGoodRevokedAndUnreachable() async throws {
        try startResponder()
        let checker = RevocationChecker(fetcher: AsyncHTTPTrustFetcher())
        let root = try certificate(pki.root)
        let goodStatus = await checker.status(of: try certificate(good.chain), roots: [root], intermediates: [], chainTime: Date())
        guard case .good(let responders) = goodStatus else { return XCTFail("expected good, got \(goodStatus)\n\(responder!.output)") }
        XCTAssertEqual(responders, ["OCSP http://127.0.0.1:\(ocspPort)"])
        let revokedStatus = await checker.status(of: try certificate(revoked.chain), roots: [root], intermediates: [], chainTime: Date())
        guard case .revoked = revokedStatus else { return XCTFail("expected revoked, got \(revokedStatus)") }
        let started = Date()
        let offlineStatus = await checker.status(of: try certificate(offline.chain), roots: [root], intermediates: [], chainTime: Date())
        guard case .unknown(let reason) = offlineStatus else { return XCTFail("expected unknown, got \(offlineStatus)") }
        XCTAssertTrue(reason.contains("127.0.0.1:\(closedPort)"), reason)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "an unreachable responder must be given up on quickly")
        // A certificate without AIA: nothing to ask, said so.
        let plain = try pki.issue("plain", key: .p256)
        let plainStatus = await checker.status(of: try certificate(plain.chain), roots: [root], intermediates: [], chainTime: Date())
        XCTAssertEqual(plainStatus, .noSource)
        XCTAssertEqual(RevocationChecker.crlDistributionPoints(try certificate(offline.chain)), ["http://127.0.0.1:\(closedPort)/root.crl"])
    }

    /// Counts what goes out, so a test can tell an answer reused from one asked again.
    final class CountingFetcher: TrustFetcher, @unchecked Sendable {
        let inner = AsyncHTTPTrustFetcher()
        private let lock = NSLock()
        private var sent = 0
        var requests: Int { lock.withLock { sent } }
        func post(url: String, contentType: String, body: [UInt8]) async throws -> [UInt8] {
            lock.withLock { sent += 1 }
            return try await inner.post(url: url, contentType: contentType, body: body)
        }
        func get(url: String, maximumBytes: Int) async throws -> [UInt8] {
            lock.withLock { sent += 1 }
            return try await inner.get(url: url, maximumBytes: maximumBytes)
        }
    }

    /// The daemon's cache: a definite answer (good, revoked) is reused until its lifetime ends,
    /// a responder out of reach is asked again each time.
    func testDefiniteAnswersAreReusedForTheirLifetimeUnknownOnesAreNot() async throws {
        try startResponder()
        let fetcher = CountingFetcher()
        let checker = RevocationChecker(fetcher: fetcher, cache: RevocationCache(lifetime: .seconds(600)))
        let root = try certificate(pki.root)
        let now = Date()
        for leaf in [good!, revoked!] {
            let first = await checker.status(of: try certificate(leaf.chain), roots: [root], intermediates: [], chainTime: now, now: now)
            let asked = fetcher.requests
            let again = await checker.status(of: try certificate(leaf.chain), roots: [root], intermediates: [], chainTime: now, now: now.addingTimeInterval(599))
            XCTAssertEqual(again, first)
            XCTAssertEqual(fetcher.requests, asked, "reused within its lifetime: \(first)")
            _ = await checker.status(of: try certificate(leaf.chain), roots: [root], intermediates: [], chainTime: now, now: now.addingTimeInterval(601))
            XCTAssertEqual(fetcher.requests, asked + 1, "asked again once its lifetime is over")
        }
        let before = fetcher.requests
        for _ in 0..<2 {
            let status = await checker.status(of: try certificate(offline.chain), roots: [root], intermediates: [], chainTime: now, now: now)
            guard case .unknown = status else { return XCTFail("expected unknown, got \(status)") }
        }
        XCTAssertGreaterThanOrEqual(fetcher.requests, before + 2, "an unreachable responder is asked again each time")
    }

    /// Certificates that name only a CRL: the list made by `openssl ca -gencrl`, served over HTTP
    /// by Python's http.server; one listed (revoked), one not (good). A list signed by another CA
    /// is not believed.
    func testCRLGoodRevokedAndForeign() async throws {
        let python = try XCTUnwrap(Self.python, "needs python3")
        let port = freeLoopbackPort()
        let served = "\(directory!)/served"
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        let listed = try pki.issue("crl-revoked", key: .p256, extensions: TestPKI.signingExtensions(crl: "http://127.0.0.1:\(port)/root.crl"))
        let unlisted = try pki.issue("crl-good", key: .p256, extensions: TestPKI.signingExtensions(crl: "http://127.0.0.1:\(port)/root.crl"))
        let foreign = try pki.issue("crl-foreign", key: .p256, extensions: TestPKI.signingExtensions(crl: "http://127.0.0.1:\(port)/other.crl"))
        let crl = try pki.makeCRL(indexLines: [try pki.indexLine(for: listed.chain, revoked: true),
                                               try pki.indexLine(for: unlisted.chain, revoked: false)], named: "root.crl")
        try FileManager.default.copyItem(atPath: crl, toPath: "\(served)/root.crl")
        let other = try TestPKI(directory: directory, name: "other", subject: "/CN=Test Root CA/O=Ban Cơ yếu (thử nghiệm)")
        try FileManager.default.copyItem(atPath: try other.makeCRL(indexLines: [try pki.indexLine(for: foreign.chain, revoked: false)], named: "other.crl"), toPath: "\(served)/other.crl")
        // -u: unbuffered, so its "Serving HTTP on" line (printed once it listens) reaches the log.
        let server = try BackgroundProgram(python, ["-u", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", served],
                                           outputPath: "\(directory!)/http.log")
        defer { server.stop() }
        XCTAssertTrue(server.waitForOutput("Serving HTTP on"), server.output)

        let checker = RevocationChecker(fetcher: AsyncHTTPTrustFetcher())
        let root = try certificate(pki.root)
        let revokedStatus = await checker.status(of: try certificate(listed.chain), roots: [root], intermediates: [], chainTime: Date())
        guard case .revoked(let reason) = revokedStatus else { return XCTFail("expected revoked, got \(revokedStatus)") }
        XCTAssertTrue(reason.contains("CRL http://127.0.0.1:\(port)/root.crl"), reason)
        let goodStatus = await checker.status(of: try certificate(unlisted.chain), roots: [root], intermediates: [], chainTime: Date())
        XCTAssertEqual(goodStatus, .good(sources: ["CRL http://127.0.0.1:\(port)/root.crl"]))
        let foreignStatus = await checker.status(of: try certificate(foreign.chain), roots: [root], intermediates: [], chainTime: Date())
        guard case .unknown(let why) = foreignStatus else { return XCTFail("expected unknown, got \(foreignStatus)") }
        XCTAssertTrue(why.contains("not signed by the certificate's issuer"), why)
        // The same list read a day and a half later is out of date: unknown, not good.
        let late = await checker.status(of: try certificate(unlisted.chain), roots: [root], intermediates: [], chainTime: Date(),
                                        now: Date().addingTimeInterval(36 * 3600))
        guard case .unknown(let lateReason) = late else { return XCTFail("expected unknown, got \(late)") }
        XCTAssertTrue(lateReason.contains("out of date"), lateReason)
    }

    /// `gatewayd verify`: good → valid, revoked → invalid, responder unreachable → unknown
    /// (indeterminate), each with its Vietnamese / English line.
    func testVerifyReportsRevocation() throws {
        try startResponder()
        var outputs: [String: String] = [:]
        for (name, signer) in [("good", good!), ("revoked", revoked!), ("offline", offline!)] {
            let output = "\(directory!)/\(name)-signed.pdf"
            let signed = gatewayd(["sign", try testPDF(name), "--out", output, "--signer", "key:\(signer.key)", "--cert", signer.chain,
                                   "--no-revocation-check"])
            XCTAssertEqual(signed.status, 0, signed.err)
            outputs[name] = output
        }
        let goodResult = gatewayd(["verify", outputs["good"]!, "--trust", pki.root, "--json"])
        XCTAssertEqual(goodResult.status, 0, goodResult.out + goodResult.err)
        XCTAssertEqual(signatures(goodResult.out).first?["revocation"] as? String, "good")
        XCTAssertEqual(signatures(goodResult.out).first?["verdict"] as? String, "valid")

        let revokedResult = gatewayd(["verify", outputs["revoked"]!, "--trust", pki.root, "--json"])
        XCTAssertEqual(revokedResult.status, 1)
        XCTAssertEqual(signatures(revokedResult.out).first?["revocation"] as? String, "revoked")
        XCTAssertEqual(signatures(revokedResult.out).first?["verdict"] as? String, "invalid")

        let offlineResult = gatewayd(["verify", outputs["offline"]!, "--trust", pki.root, "--json"])
        XCTAssertEqual(offlineResult.status, 1)
        XCTAssertEqual(signatures(offlineResult.out).first?["revocation"] as? String, "unknown")
        XCTAssertEqual(signatures(offlineResult.out).first?["verdict"] as? String, "indeterminate")
        let text = gatewayd(["verify", outputs["offline"]!, "--trust", pki.root]).out
        XCTAssertTrue(text.contains("không xác định được tình trạng thu hồi / revocation status unknown"), text)
        let revokedText = gatewayd(["verify", outputs["revoked"]!, "--trust", pki.root]).out
        XCTAssertTrue(revokedText.contains("ĐÃ BỊ THU HỒI / the certificate is REVOKED"), revokedText)
        // Then the verdict in the inbox's words (the same core): invalid, and could not be checked.
        XCTAssertTrue(revokedText.contains("Chữ ký số / Signatures: không hợp lệ / invalid"), revokedText)
        XCTAssertTrue(text.contains("Chữ ký số / Signatures: chưa kiểm tra được / could not be checked"), text)
        // Offline on purpose: not asked, and not called valid revocation-wise.
        let skipped = gatewayd(["verify", outputs["good"]!, "--trust", pki.root, "--json", "--no-revocation-check"])
        XCTAssertEqual(signatures(skipped.out).first?["revocation"] as? String, "not-checked")
    }

    // MARK: Checks before signing

    func testSigningChecksRefuseWithAReason() throws {
        try startResponder()
        let input = try testPDF("input")
        let output = "\(directory!)/out.pdf"
        func sign(_ signer: TestPKI.Signer, _ extra: [String]) -> (status: Int32, out: String, err: String) {
            gatewayd(["sign", input, "--out", output, "--signer", "key:\(signer.key)", "--cert", signer.chain] + extra)
        }
        // Good certificate, anchors installed, responder answers: signed, no warning.
        let signed = sign(good, ["--trust", pki.root])
        XCTAssertEqual(signed.status, 0, signed.err)
        XCTAssertFalse(signed.err.contains("warning"), signed.err)
        try FileManager.default.removeItem(atPath: output)

        // Revoked: refused, nothing written.
        let refused = sign(revoked, ["--trust", pki.root])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.err.contains("Không ký") && refused.err.contains("REVOKED"), refused.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))

        // Responder unreachable: signed with a warning that says so; refused when required.
        let warned = sign(offline, ["--trust", pki.root])
        XCTAssertEqual(warned.status, 0, warned.err)
        XCTAssertTrue(warned.err.contains("Cảnh báo / warning") && warned.err.contains("revocation status unknown"), warned.err)
        try FileManager.default.removeItem(atPath: output)
        let required = sign(offline, ["--trust", pki.root, "--require-revocation"])
        XCTAssertEqual(required.status, 1)
        XCTAssertTrue(required.err.contains("--require-revocation"), required.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))

        // Another root installed: the chain fails.
        let other = try TestPKI(directory: directory, name: "other-root", subject: "/CN=Other Root")
        let untrusted = sign(good, ["--trust", other.root])
        XCTAssertEqual(untrusted.status, 1)
        XCTAssertTrue(untrusted.err.contains("does not chain to an installed trust anchor"), untrusted.err)

        // A certificate for encryption only.
        let encryption = try pki.issue("encryption", key: .rsa2048, extensions: "keyUsage=critical,keyEncipherment\n")
        let wrongUsage = sign(encryption, ["--trust", pki.root])
        XCTAssertEqual(wrongUsage.status, 1)
        XCTAssertTrue(wrongUsage.err.contains("not for signatures"), wrongUsage.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testExpiredCertificateIsRefused() async throws {
        let certificate = try certificate(good.chain)
        let later = certificate.notValidAfter.addingTimeInterval(86_400)
        let outcome = await SigningCertificateCheck.run(
            certificate: certificate, intermediates: [], trustRoots: [try self.certificate(pki.root)], revocation: nil,
            requireRevocation: false, now: later)
        XCTAssertTrue(outcome.refusal?.contains("has expired") == true, "\(outcome.refusal ?? "signed")")
    }

    // MARK: Timestamps (RFC 3161)

    func startTSA(mode: String = "ok") throws -> (url: String, program: BackgroundProgram) {
        let python = try XCTUnwrap(Self.python, "needs python3")
        let (config, _) = try pki.makeTSA()
        let program = try BackgroundProgram(python, [repositoryRoot.path + "/tools/test-tsa/tsa-responder.py", "--config", config, "--mode", mode],
                                            outputPath: "\(directory!)/tsa-\(mode).log")
        var port: Int?
        // Only a whole line counts (the last piece after a split may still be being written).
        _ = waitUntil(changesIn: directory!, timeout: .seconds(10)) {
            port = program.output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                .first { $0.hasPrefix("PORT ") }.flatMap { Int($0.dropFirst(5)) }
            return port != nil
        }
        if let port { return ("http://127.0.0.1:\(port)/", program) }
        program.stop()
        throw TestPKI.Failure(description: "the TSA did not start: \(program.output)")
    }

    /// The SHA-256 of the first SignerInfo's signature value and its timestamp token, read by
    /// asn1crypto (pyHanko's ASN.1 library), not by our parser.
    func extractToken(cms: String, token: String) throws -> String {
        let python = try XCTUnwrap(Self.pythonWithPyHanko)
        let result = runProgram(python, ["-c", """
            import hashlib, sys
            from asn1crypto import cms
            info = cms.ContentInfo.load(open(sys.argv[1], 'rb').read())
            signer = info['content']['signer_infos'][0]
            token = [a for a in signer['unsigned_attrs'] if a['type'].dotted == '1.2.840.113549.1.9.16.2.14'][0]['values'][0]
            open(sys.argv[2], 'wb').write(token.dump())
            print(hashlib.sha256(signer['signature'].native).hexdigest())
            """, cms, token])
        XCTAssertEqual(result.status, 0, result.err)
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testPDFTimestampIsJudgedByPyHankoAndOpenSSL() throws {
        try XCTSkipUnless(Self.pythonWithPyHanko != nil, "needs python3 with pyhanko (scripts/install-deps)")
        let tsa = try startTSA()
        defer { tsa.program.stop() }
        let output = "\(directory!)/stamped.pdf"
        let signed = gatewayd(["sign", try testPDF("plain"), "--out", output, "--signer", "key:\(good.key)", "--cert", good.chain,
                               "--tsa", tsa.url, "--no-revocation-check"])
        XCTAssertEqual(signed.status, 0, signed.err + tsa.program.output)
        XCTAssertTrue(signed.out.contains("PAdES B-T"), signed.out)

        // pyHanko: the signature and its timestamp intact, valid, trusted to the test root.
        let python = try XCTUnwrap(Self.pythonWithPyHanko)
        do {
            let judged = runProgram(python, ["-c", """
                import sys
                from pyhanko.pdf_utils.reader import PdfFileReader
                from pyhanko.sign.validation import validate_pdf_signature
                from pyhanko_certvalidator import ValidationContext
                from pyhanko.keys import load_cert_from_pemder
                vc = ValidationContext(trust_roots=[load_cert_from_pemder(sys.argv[2])])
                with open(sys.argv[1], 'rb') as f:
                    s = PdfFileReader(f).embedded_signatures[0]
                    st = validate_pdf_signature(s, vc, ts_validation_context=vc)
                    ts = st.timestamp_validity
                    print('signature', st.intact, st.valid, st.trusted)
                    print('timestamp', ts is not None and ts.intact, ts is not None and ts.valid, ts is not None and ts.trusted,
                          ts.timestamp.isoformat() if ts else '-')
                """, output, pki.root])
            XCTAssertEqual(judged.status, 0, judged.err)
            XCTAssertTrue(judged.out.contains("signature True True True"), judged.out)
            XCTAssertTrue(judged.out.contains("timestamp True True True"), judged.out)
        }

        // openssl ts -verify on the token taken out of /Contents, against the signature's hash.
        let cms = "\(directory!)/contents.der", token = "\(directory!)/token.der"
        let hex = runProgram(python, ["-c", """
            import re, sys
            data = open(sys.argv[1], 'rb').read()
            br = [int(x) for x in re.findall(rb'/ByteRange\\s*\\[\\s*(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)', data)[-1]]
            open(sys.argv[2], 'wb').write(bytes.fromhex(data[br[1] + 1:br[2] - 1].decode()))
            """, output, cms])
        XCTAssertEqual(hex.status, 0, hex.err)
        let imprint = try extractToken(cms: cms, token: token)
        let verified = runProgram("/usr/bin/openssl", ["ts", "-verify", "-in", token, "-token_in", "-digest", imprint, "-CAfile", pki.root])
        XCTAssertEqual(verified.status, 0, verified.out + verified.err)
        XCTAssertTrue(verified.out.contains("Verification: OK"), verified.out)
        // The same check fails for another digest (the judge can say no).
        let other = runProgram("/usr/bin/openssl", ["ts", "-verify", "-in", token, "-token_in", "-digest", String(repeating: "00", count: 32), "-CAfile", pki.root])
        XCTAssertNotEqual(other.status, 0)

        // gatewayd verify shows the timestamp's time, trusted.
        let report = gatewayd(["verify", output, "--trust", pki.root, "--json", "--no-revocation-check"])
        XCTAssertEqual(report.status, 0, report.out + report.err)
        let first = try XCTUnwrap(signatures(report.out).first)
        XCTAssertNotNil(first["timestampTime"], report.out)
        let text = gatewayd(["verify", output, "--trust", pki.root, "--no-revocation-check"]).out
        XCTAssertTrue(text.contains("Dấu thời gian / Timestamp: "), text)
        XCTAssertTrue(text.contains("(tin cậy / trusted)"), text)
    }

    func testCAdESTimestampAndOpenSSLCMS() throws {
        try XCTSkipUnless(Self.pythonWithPyHanko != nil, "needs python3 with pyhanko (scripts/install-deps)")
        let tsa = try startTSA()
        defer { tsa.program.stop() }
        let content = "\(directory!)/công văn.txt"
        try "Công văn số 123/UBND-VP — nội dung thử".write(toFile: content, atomically: true, encoding: .utf8)
        let p7s = content + ".p7s"
        let signed = gatewayd(["sign", content, "--out", p7s, "--signer", "key:\(good.key)", "--cert", good.chain, "--tsa", tsa.url,
                               "--no-revocation-check"])
        XCTAssertEqual(signed.status, 0, signed.err)
        let cmsCheck = runProgram("/usr/bin/openssl", ["cms", "-verify", "-binary", "-inform", "DER", "-in", p7s, "-content", content,
                                                      "-CAfile", pki.root, "-purpose", "any", "-out", "/dev/null"])
        XCTAssertEqual(cmsCheck.status, 0, cmsCheck.err)
        let token = "\(directory!)/p7s-token.der"
        let imprint = try extractToken(cms: p7s, token: token)
        let verified = runProgram("/usr/bin/openssl", ["ts", "-verify", "-in", token, "-token_in", "-digest", imprint, "-CAfile", pki.root])
        XCTAssertTrue(verified.out.contains("Verification: OK"), verified.out + verified.err)
        let report = gatewayd(["verify", p7s, "--trust", pki.root, "--json", "--no-revocation-check"])
        XCTAssertEqual(report.status, 0, report.out + report.err)
        XCTAssertNotNil(signatures(report.out).first?["timestampTime"], report.out)
    }

    /// A TSA that cannot be reached or answers badly: a clear error, nothing written.
    func testBadTSAWritesNothing() throws {
        let input = try testPDF("plain")
        let output = "\(directory!)/never.pdf"
        func sign(_ url: String) -> (status: Int32, out: String, err: String) {
            gatewayd(["sign", input, "--out", output, "--signer", "key:\(good.key)", "--cert", good.chain, "--tsa", url, "--no-revocation-check"])
        }
        let unreachable = sign("http://127.0.0.1:\(closedPort)/")
        XCTAssertEqual(unreachable.status, 1)
        XCTAssertTrue(unreachable.err.contains("máy chủ dấu thời gian (TSA) không trả lời") && unreachable.err.contains("nothing was signed"), unreachable.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        for (mode, expected) in [("garbage", "malformed"), ("reject", "refused the request (status 2): test refusal"),
                                 ("other-nonce", "does not match the request")] {
            let tsa = try startTSA(mode: mode)
            let answer = sign(tsa.url)
            tsa.program.stop()
            XCTAssertEqual(answer.status, 1, mode)
            XCTAssertTrue(answer.err.contains(expected), "\(mode): \(answer.err)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: output), mode)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("never.pdf") }
            XCTAssertEqual(leftovers, [], mode)
        }
    }

    /// A serial number with its high bit set (0x80000001, 0x00FF01) names the signer as a positive
    /// INTEGER: openssl finds the signer's certificate by issuer and serial and verifies.
    func testHighBitSerialNumbersNameTheSigner() throws {
        let content = "\(directory!)/serial.txt"
        try "số sê-ri".write(toFile: content, atomically: true, encoding: .utf8)
        for serial in ["0x80000001", "0x00FF01", "0x7F"] {
            let certificate = "\(directory!)/serial-\(serial).pem"
            let made = runProgram("/usr/bin/openssl", ["x509", "-req", "-in", "\(directory!)/good.csr", "-CA", pki.root, "-CAkey", "\(directory!)/root.key",
                                                      "-set_serial", serial, "-days", "2", "-extfile", "\(directory!)/good.ext", "-out", certificate])
            XCTAssertEqual(made.status, 0, made.err)
            let p7s = "\(directory!)/serial-\(serial).p7s"
            let signed = gatewayd(["sign", content, "--out", p7s, "--signer", "key:\(good.key)", "--cert", certificate, "--no-revocation-check"])
            XCTAssertEqual(signed.status, 0, signed.err)
            let verified = runProgram("/usr/bin/openssl", ["cms", "-verify", "-binary", "-inform", "DER", "-in", p7s, "-content", content,
                                                          "-CAfile", pki.root, "-purpose", "any", "-out", "/dev/null"])
            XCTAssertEqual(verified.status, 0, "\(serial): \(verified.err)")
            let ours = gatewayd(["verify", p7s, "--content", content, "--trust", pki.root, "--no-revocation-check", "--json"])
            XCTAssertEqual(ours.status, 0, "\(serial): \(ours.out)")
        }
    }

    // MARK: Pure pieces

    func testTimeStampRequestIsReadByOpenSSL() throws {
        let imprint = DigestAlgorithm.sha256.hash(Array("chữ ký".utf8))
        let request = try TimeStampProtocol.request(imprint: imprint, digest: .sha256, nonce: [0x12, 0x34, 0x56])
        let path = "\(directory!)/request.tsq"
        try Data(request).write(to: URL(fileURLWithPath: path))
        let text = runProgram("/usr/bin/openssl", ["ts", "-query", "-in", path, "-text"])
        XCTAssertEqual(text.status, 0, text.err)
        XCTAssertTrue(text.out.contains("Hash Algorithm: sha256"), text.out)
        XCTAssertTrue(text.out.contains("Nonce: 0x123456"), text.out)
        XCTAssertTrue(text.out.contains("Certificate required: yes"), text.out)
        for cut in 0..<request.count {
            XCTAssertThrowsError(try TimeStampProtocol.token(fromResponse: Array(request.prefix(cut))))
        }
    }
}

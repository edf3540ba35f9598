import DocumentModel
import DocumentSigning
import Foundation
import Signing
import TestSupport
import XCTest
@testable import GatewayCore
import TimeJSON

/// Issue 14, acceptance 1, through the real relay: the province's office posts signed documents
/// down through the real `hubd`'s office API (curl, an office certificate), a running gatewayd box
/// pulls them, and `GET /v1/inbox` shows each one's verdict. The signing certificates come from an
/// openssl CA (the box's `[trust] anchors`) and name a local `openssl ocsp` responder in their AIA;
/// the untrusted signer is from a second CA; the SHA-1 signature is made by `openssl cms`.
///
/// Needs `hubd` (as RelayEndToEndTests), curl and openssl.
final class IncomingTrustRelayTests: XCTestCase {
    var directory = ""
    var hub: Process?
    var box: RunningDaemon?
    var responder: BackgroundProgram?
    var pki: TestPKI!
    var office: TestPKI.Signer!
    var hubPort = 0
    let province = "000.00.00.H41", commune = "000.00.20.H13"

    override func setUp() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Hubd.binary), "needs hubd: build it, or set HUBD")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-trust-relay-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        box?.stop()
        responder?.stop()
        if let hub, hub.isRunning { hub.terminate(); hub.waitUntilExit() }
        TestLogs.keep(directory + "/hubd.log", as: "hubd")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// hubd for the province and one commune, and the box, its `[trust] anchors` the test CA and
    /// its re-check interval short enough to be seen.
    func startHubAndBox() async throws -> RunningDaemon {
        let started = try await Hubd.startProvince(pki: pki, directory: directory, province: province, commune: commune)
        (hub, hubPort, office) = (started.hub, started.port, started.office)
        let box = try RunningDaemon(config: try Hubd.boxConfiguration(pki: pki, commune: commune, port: hubPort, extra: """
            [trust]
            anchors = ["\(pki.root)"]
            recheck_interval = "1s"
            """))
        self.box = box
        try await box.waitUntilReady()
        return box
    }

    enum Change { case none, pdfAfterSigning, envelopeAfterSigning }

    /// A document package as the province sends it, posted through hubd's office API: `pdfSigner`
    /// signs the PDF (PAdES), `envelopeSigner` the envelope (`gatewayd edxml pack --signer`);
    /// `sha1Signer` instead signs a text file with a detached SHA-1 CAdES `.p7s` beside it.
    func post(number: String, pdfSigner: TestPKI.Signer? = nil, sha1Signer: TestPKI.Signer? = nil,
              envelopeSigner: TestPKI.Signer, change: Change = .none) async throws {
        let d = directory
        var files: [String] = []
        if let pdfSigner {
            let original = d + "/plain-\(number).pdf", signed = d + "/cong-van-\(number).pdf"
            try Data(SamplePDF.bytes("Cong van cua tinh so \(number)")).write(to: URL(fileURLWithPath: original))
            let signer = try SoftwareKeySigner(keyFile: pdfSigner.key, chainFile: pdfSigner.chain)
            _ = try await PAdESSigner.sign(input: original, output: signed, signer: signer, algorithm: signer.keyType.algorithms[0])
            if change == .pdfAfterSigning {
                // One byte of the signed revision's text changed: inside the signed byte range.
                var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: signed)))
                bytes[try XCTUnwrap(bytes.firstRange(of: Array("Cong van".utf8))).lowerBound] = UInt8(ascii: "K")
                try Data(bytes).write(to: URL(fileURLWithPath: signed))
            }
            files.append(signed)
        }
        if let sha1Signer {
            // Our signers refuse SHA-1; openssl still makes it (a detached CMS with signed attributes).
            let text = d + "/bao-cao-\(number).txt"
            try "Báo cáo số \(number)".write(toFile: text, atomically: true, encoding: .utf8)
            let made = runProgram("/usr/bin/openssl", ["cms", "-sign", "-md", "sha1", "-binary", "-in", text, "-signer", sha1Signer.chain,
                                                       "-inkey", sha1Signer.key, "-outform", "DER", "-out", text + ".p7s"])
            XCTAssertEqual(made.status, 0, made.err)
            files += [text, text + ".p7s"]
        }
        let package = d + "/down-\(number).edxml"
        let packed = try XCTUnwrap(box).cli(["edxml", "pack", "--from", province, "--from-name", "UBND tỉnh Quảng Trị", "--to", commune,
                                             "--subject", "Về việc kiểm tra đê điều số \(number)", "--number", number, "--notation", "UBND-VP",
                                             "--signer", "key:" + envelopeSigner.key, "--cert", envelopeSigner.chain] + files + ["--out", package],
                                            data: false)
        XCTAssertEqual(packed.status, 0, packed.err)
        if change == .envelopeAfterSigning {
            // Still well-formed XML, but not what was signed.
            let text = try String(contentsOfFile: package, encoding: .utf8)
            try text.replacingOccurrences(of: "kiểm tra đê điều", with: "kiểm tra kè biển").write(toFile: package, atomically: true, encoding: .utf8)
        }
        let posted = runProgram("/usr/bin/curl", ["-sS", "--cacert", pki.root, "--cert", office.chain, "--key", office.key,
                                                  "--data-binary", "@" + package, "-H", "Content-Type: application/xml",
                                                  "-w", "\n%{http_code}", "https://localhost:\(hubPort)/office/v1/packages"])
        XCTAssertTrue(posted.out.hasSuffix("201"), posted.out + posted.err)
    }

    /// The inbox entry of the document numbered `number`, as `GET /v1/inbox` shows it.
    func entry(_ number: String) -> InboxList.Entry? {
        let body = box?.curl([], path: "/v1/inbox").body ?? ""
        let list = try? GatewayJSON.decoder.decode(InboxList.self, from: Data(body.utf8))
        return list?.items.first { $0.kind == .document && $0.key.contains(",\(number)/") }
    }

    func verdict(_ number: String) -> IncomingVerdict? { entry(number)?.verdict }

    func log() -> String {
        "\n--- gatewayd\n" + ((try? String(contentsOfFile: box?.logPath ?? "", encoding: .utf8)) ?? "")
            + "\n--- hubd\n" + ((try? String(contentsOfFile: directory + "/hubd.log", encoding: .utf8)) ?? "")
    }

    func testVerdictsOfDocumentsFromTheHub() async throws {
        let d = directory
        pki = try TestPKI(directory: d, name: "ca", subject: "/CN=Trust relay test CA/O=Ban Cơ yếu (thử nghiệm)")
        let ocspPort = freeLoopbackPort()
        let signing = TestPKI.signingExtensions(ocsp: "http://127.0.0.1:\(ocspPort)")
        let chairman = try pki.issue("chairman", subject: "/CN=Nguyễn Văn A/O=UBND tỉnh Quảng Trị", key: .p256, extensions: signing)
        let revoked = try pki.issue("revoked", subject: "/CN=Trần Văn B/O=UBND tỉnh Quảng Trị", key: .p256, extensions: signing)
        let otherPKI = try TestPKI(directory: d, name: "other-ca", subject: "/CN=Other CA/O=Không tin cậy")
        let stranger = try otherPKI.issue("stranger", subject: "/CN=Lê Văn C/O=UBND tỉnh Quảng Trị", key: .p256, extensions: signing)
        let box = try await startHubAndBox()
        let pid = box.process.processIdentifier

        // The responder is down: the chairman's signature cannot be checked, and is not shown valid.
        try await post(number: "1", pdfSigner: chairman, envelopeSigner: chairman)
        try? await waitUntil(seconds: 60) { [self] in verdict("1") != nil }
        let unknown = try XCTUnwrap(verdict("1"), log())
        XCTAssertEqual(unknown.outcome, .unknown, unknown.lines.joined(separator: "\n"))
        XCTAssertEqual(unknown.lines.first, "Chữ ký số / Signatures: chưa kiểm tra được / could not be checked")
        let unchecked = try XCTUnwrap(unknown.findings.first { $0.file == "cong-van-1.pdf" }, unknown.lines.joined(separator: "\n"))
        XCTAssertEqual(unchecked.outcome, .unknown)
        XCTAssertTrue(unchecked.reason?.contains("127.0.0.1:\(ocspPort)") == true, unchecked.reason ?? "")

        // The responder answers now: the re-check finds the signatures valid, with a history line,
        // in the same box process.
        responder = try pki.startOCSPResponder(indexLines: [try pki.indexLine(for: chairman.chain, revoked: false),
                                                            try pki.indexLine(for: revoked.chain, revoked: true)], port: ocspPort)
        // The row is saved before thong-tin.txt is rewritten: wait for both.
        func information() -> String {
            guard let folder = entry("1")?.folder else { return "" }
            return (try? String(contentsOfFile: box.dataDirectory + "/inbox/" + folder + "/thong-tin.txt", encoding: .utf8)) ?? ""
        }
        try? await waitUntil(seconds: 60) { [self] in verdict("1")?.outcome == .valid && information().contains("→ hợp lệ / valid") }
        let rechecked = try XCTUnwrap(verdict("1"))
        XCTAssertEqual(rechecked.outcome, .valid, rechecked.lines.joined(separator: "\n") + log())
        XCTAssertEqual(rechecked.history.count, 1, "\(rechecked.history)")
        XCTAssertTrue(rechecked.history.first?.hasSuffix("chưa kiểm tra được / could not be checked → hợp lệ / valid (kiểm tra lại / re-checked)") == true,
                      "\(rechecked.history)")
        XCTAssertEqual(box.process.processIdentifier, pid)
        XCTAssertTrue(box.process.isRunning, "not restarted")
        XCTAssertTrue(information().contains("Chữ ký số / Signatures: hợp lệ / valid")
                      && information().contains("chưa kiểm tra được / could not be checked → hợp lệ / valid"), information())
        // `gatewayd show N` and GET /v1/inbox/N give the one document, its verdict and its re-checks.
        let first = try XCTUnwrap(entry("1"))
        let showed = box.cli(["show", String(first.hubId)])
        XCTAssertEqual(showed.status, 0, showed.err)
        XCTAssertTrue(showed.out.contains("Chữ ký số / Signatures: hợp lệ / valid") && showed.out.contains("Lịch sử kiểm tra / re-checks:")
                      && showed.out.contains("→ hợp lệ / valid (kiểm tra lại / re-checked)"), showed.out)
        let one = box.curl([], path: "/v1/inbox/\(first.hubId)")
        XCTAssertEqual(one.http, 200, one.body)
        XCTAssertEqual(try GatewayJSON.decoder.decode(InboxList.Entry.self, from: Data(one.body.utf8)).verdict?.outcome, .valid)
        XCTAssertEqual(box.curl([], path: "/v1/inbox/987654").http, 404)

        // The rest, with the responder up.
        try await post(number: "2", pdfSigner: chairman, envelopeSigner: chairman)
        try await post(number: "3", pdfSigner: chairman, envelopeSigner: chairman, change: .pdfAfterSigning)
        try await post(number: "4", pdfSigner: stranger, envelopeSigner: stranger)
        try await post(number: "5", sha1Signer: chairman, envelopeSigner: chairman)
        try await post(number: "6", pdfSigner: chairman, envelopeSigner: chairman, change: .envelopeAfterSigning)
        try await post(number: "7", pdfSigner: revoked, envelopeSigner: chairman)
        // Checked, then placed in the inbox folder: both done for each.
        try? await waitUntil(seconds: 90) { [self] in (2...7).allSatisfy { entry("\($0)")?.folder != nil && verdict("\($0)") != nil } }
        func shown(_ number: String) throws -> IncomingVerdict { try XCTUnwrap(verdict(number), "document \(number)" + log()) }
        func text(_ verdict: IncomingVerdict) -> String { verdict.lines.joined(separator: "\n") }

        let valid = try shown("2")
        XCTAssertEqual(valid.outcome, .valid, text(valid))
        XCTAssertEqual(valid.findings.map(\.outcome), [.valid, .valid], "the envelope and the PDF: " + text(valid))
        XCTAssertEqual(valid.findings.last?.signer, "Nguyễn Văn A")

        let changed = try shown("3")
        XCTAssertEqual(changed.outcome, .invalid, text(changed))
        XCTAssertEqual(changed.findings.first { $0.file == "cong-van-3.pdf" }?.reason,
                       "tệp đã bị sửa sau khi ký / the file was changed after it was signed", text(changed))

        let untrusted = try shown("4")
        XCTAssertEqual(untrusted.outcome, .invalid, text(untrusted))
        XCTAssertEqual(untrusted.findings.count, 2, text(untrusted))
        XCTAssertTrue(untrusted.findings.allSatisfy { $0.outcome == .invalid && $0.reason?.contains("không dẫn tới gốc tin cậy") == true }, text(untrusted))
        XCTAssertFalse(text(untrusted).contains("()"), "no empty detail: " + text(untrusted))

        let weak = try shown("5")
        XCTAssertEqual(weak.outcome, .invalid, text(weak))
        let sha1 = try XCTUnwrap(weak.findings.first { $0.file == "bao-cao-5.txt" }, text(weak))
        XCTAssertEqual(sha1.outcome, .invalid, text(weak))
        XCTAssertTrue(sha1.reason?.contains("thuật toán yếu (SHA-1)") == true && sha1.reason?.contains("weak algorithm") == true, text(weak))

        let broken = try shown("6")
        XCTAssertEqual(broken.outcome, .invalid, text(broken))
        XCTAssertEqual(broken.findings.first?.file, IncomingVerifier.envelope)
        XCTAssertTrue(broken.findings.first?.reason?.hasPrefix("chữ ký phong bì sai") == true, text(broken))
        XCTAssertEqual(broken.findings.last?.outcome, .valid, "the PDF's own signature still holds: " + text(broken))

        let withdrawn = try shown("7")
        XCTAssertEqual(withdrawn.outcome, .invalid, text(withdrawn))
        let revokedFinding = try XCTUnwrap(withdrawn.findings.first { $0.file == "cong-van-7.pdf" }, text(withdrawn))
        XCTAssertEqual(revokedFinding.outcome, .invalid, text(withdrawn))
        XCTAssertTrue(revokedFinding.reason?.contains("ĐÃ BỊ THU HỒI") == true && revokedFinding.reason?.contains("REVOKED") == true, text(withdrawn))

        // Each invalid one is still placed for the clerks, marked in its folder's name.
        for number in ["3", "4", "5", "6", "7"] {
            XCTAssertTrue(entry(number)?.folder?.hasSuffix(InboxFolder.invalidMark) == true, "document \(number): \(entry(number)?.folder ?? "no folder")")
        }
        XCTAssertEqual(entry("2")?.folder?.hasSuffix(InboxFolder.invalidMark), false)

        // The clerks' list says the same.
        let listed = box.cli(["inbox"])
        XCTAssertEqual(listed.status, 0, listed.err)
        XCTAssertTrue(listed.out.contains("trên tệp \"cong-van-3.pdf\": không hợp lệ — tệp đã bị sửa sau khi ký"), listed.out)
        XCTAssertTrue(listed.out.contains("\"cong-van-3.pdf\": invalid — the file was changed after it was signed)"), listed.out)
    }
}

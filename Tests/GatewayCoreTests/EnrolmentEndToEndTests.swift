import DocumentModel
import Foundation
import TestSupport
import XCTest
@testable import GatewayCore
import TimeJSON

/// Issue 20, acceptance 1 and 2, box side, against the real `hubd` with its enrolment listener
/// and issuing CA (`[ca]`, the test PKI's root, made by openssl): a box enrols with a token at its
/// first start and relays with the certificate it received; a spent token, and a token for another
/// agency, are refused; a renewal while an upload is on the wire does not interrupt it; a hub that
/// refuses the renewal leaves the old certificate in use and a warning in `gatewayd status`.
final class EnrolmentEndToEndTests: XCTestCase {
    let commune = "000.00.20.H13"
    var directory = ""
    var pki: TestPKI!
    var hub: Process?
    var box: RunningDaemon?
    var proxy: Process?
    var port = 0
    var enrolmentPort = 0
    var seal: TestPKI.Signer!
    let taxCode = "0101234513"

    override func setUp() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Hubd.binary), "needs hubd")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-enrol-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        pki = try TestPKI(directory: directory, name: "ca", subject: "/CN=Enrolment test CA/O=Sở TT&TT (thử nghiệm)")
        seal = try pki.issue("seal", subject: "/CN=UBND xã Hòa Tiến/O=UBND xã Hòa Tiến/UID=MST:\(taxCode)", key: .p256)
        (port, enrolmentPort) = (freeLoopbackPort(), freeLoopbackPort())
    }

    override func tearDown() async throws {
        box?.stop()
        stopHub()
        if let proxy, proxy.isRunning { kill(proxy.processIdentifier, SIGKILL); proxy.waitUntilExit() }
        TestLogs.keep(directory + "/hubd.log", as: "hubd")
        try? FileManager.default.removeItem(atPath: directory)
    }

    var handoff: String { directory + "/handoff" }
    var hubConfig: String { directory + "/hubd.toml" }

    /// hubd issuing box certificates of `lifetime` (`[ca]` and `[enrolment]`), or, with
    /// `issuing: false`, the same hub and store without them: it then issues nothing.
    func startHub(lifetime: String = "30d", issuing: Bool = true) async throws {
        hub = try await Hubd.startProvince(pki: pki, directory: directory, province: "000.00.00.H41", commune: commune, extra: """
            [[agency]]
            code = "000.00.20.H14"
            name = "UBND xã Hòa Khương"
            served = true
            """ + (issuing ? """

            [ca]
            certificate_file = "\(pki.root)"
            key_file = "\(directory)/ca.key"
            [enrolment]
            listen = "127.0.0.1:\(enrolmentPort)"
            certificate_lifetime = "\(lifetime)"
            """ : ""), port: port).hub
        if issuing { try await waitUntil(seconds: 60) { [enrolmentPort] in isListening(onLoopbackPort: enrolmentPort) } }
    }

    func stopHub() {
        if let hub, hub.isRunning { hub.terminate(); hub.waitUntilExit() }
    }

    func newToken(_ agency: String? = nil) throws -> String {
        let made = runProgram(Hubd.binary, ["enroll-token", "create", "--agency", agency ?? commune, "--config", hubConfig])
        XCTAssertEqual(made.status, 0, made.err)
        return made.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The box with no certificate of its own: `[enrolment]` and a token instead.
    func startBox(token: String?, upstreamPort: Int? = nil, caFile: String? = nil) async throws -> RunningDaemon {
        let box = try RunningDaemon(config: """
            [agency]
            code = "\(commune)"
            name = "UBND xã Hòa Tiến"
            tax_code = "\(taxCode)"
            [trust]
            anchors = ["\(pki.root)"]
            [intake]
            disk_reserve = 0
            [upstream]
            url = "https://localhost:\(upstreamPort ?? port)"
            ca_file = "\(caFile ?? pki.root)"
            long_poll = "5s"
            idle_timeout = "10s"
            retry_base = "200ms"
            retry_cap = "2s"
            [enrolment]
            url = "https://localhost:\(enrolmentPort)"
            """ + (token.map { "\ntoken = \"\($0)\"\n" } ?? "\n"))
        self.box = box
        try await box.waitUntilReady()
        return box
    }

    func enroll(_ box: RunningDaemon, _ arguments: [String]) -> (status: Int32, out: String, err: String) {
        box.cli(["enroll", "--config", box.directory + "/gatewayd.toml"] + arguments)
    }

    func submit(_ box: RunningDaemon, size: Int, number: String) async throws -> DocumentID {
        let path = directory + "/doc-\(number).pdf"
        try await SignedSamplePDF.write(path, padding: (0..<size).map { _ in UInt8.random(in: 0...255) }, signedBy: [seal])
        let metadata = #"{"file_name": "Quyết định \#(number).pdf", "recipients": ["000.00.00.H41"], "subject": "Về việc ghi danh", "number": "\#(number)", "notation": "QĐ-UBND", "signed": true}"#
        let submitted = box.curl(["--data-binary", "@\(path)", "-H", "X-Gateway-Metadata: " + Data(metadata.utf8).base64EncodedString()])
        XCTAssertEqual(submitted.http, 201, submitted.body)
        return try GatewayJSON.decoder.decode(DocumentView.self, from: Data(submitted.body.utf8)).document.id
    }

    func view(_ box: RunningDaemon, _ id: DocumentID) -> DocumentView? {
        try? GatewayJSON.decoder.decode(DocumentView.self, from: Data(box.curl([], path: "/v1/documents/\(id)?history=true").body.utf8))
    }

    func handedOff() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: handoff)) ?? []).filter { $0.hasSuffix(".edxml") }.count
    }

    func publicKey(certificate: String) -> String { runProgram("/usr/bin/openssl", ["x509", "-in", certificate, "-noout", "-pubkey"]).out }
    func publicKey(key: String) -> String { runProgram("/usr/bin/openssl", ["pkey", "-in", key, "-pubout"]).out }
    func log(_ path: String) -> String { "\n" + ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "") }

    // MARK: Acceptance 1

    func testABoxEnrolsWithATokenAndRelaysWithTheCertificateItReceived() async throws {
        try await startHub()
        let token = try newToken()
        let box = try await startBox(token: token)
        let files = BoxIdentityFiles(dataDirectory: box.dataDirectory)

        // The key was made on the box: 0600, in the data directory, and the certificate holds it.
        var info = stat()
        XCTAssertEqual(stat(files.key, &info), 0, log(box.logPath))
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(publicKey(certificate: files.certificate), publicKey(key: files.key))
        let subject = runProgram("/usr/bin/openssl", ["x509", "-in", files.certificate, "-noout", "-subject", "-issuer"]).out
        XCTAssertTrue(subject.contains("CN = \(commune)") && subject.contains("Enrolment test CA"), subject)
        XCTAssertEqual(runProgram("/usr/bin/openssl", ["verify", "-CAfile", pki.root, "-purpose", "sslclient", files.certificate]).status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: box.dataDirectory + "/tls").sorted(), ["box.key", "box.pem", "renewal.json"])

        // It relays with it: the document reaches the hub, delivered with a receipt.
        let id = try await submit(box, size: 20_000, number: "201")
        try await waitUntil(seconds: 60) { [self] in view(box, id)?.document.state == .delivered }
        XCTAssertEqual(handedOff(), 1)

        // The status shows the certificate and its renewal, no warning.
        let status = box.cli(["status"])
        XCTAssertTrue(status.out.contains("Chứng thư số của hộp / box certificate: hết hạn / expires"), status.out)
        XCTAssertFalse(status.out.contains("CẢNH BÁO"), status.out)

        // The same token again: refused with what to do, and the identity is untouched.
        let before = try Data(contentsOf: URL(fileURLWithPath: files.certificate))
        let again = enroll(box, ["--token", token])
        XCTAssertEqual(again.status, 1, again.out)
        XCTAssertTrue(again.err.contains("refused the enrolment token") && again.err.contains("từ chối mã ghi danh"), again.err)
        // A token made for another agency cannot yield a certificate for this one.
        let foreign = enroll(box, ["--token", try newToken("000.00.20.H14")])
        XCTAssertEqual(foreign.status, 1)
        XCTAssertTrue(foreign.err.contains("refused the enrolment token"), foreign.err)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: files.certificate)), before)

        // A new token replaces the identity (a revoked or expired box enrols again this way).
        let replaced = enroll(box, ["--token", try newToken()])
        XCTAssertEqual(replaced.status, 0, replaced.err)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: files.certificate)), before)
        XCTAssertEqual(publicKey(certificate: files.certificate), publicKey(key: files.key))
    }

    func testAnUntrustedHubOrAWrongTokenIsExplained() async throws {
        try await startHub()
        // The box trusts another CA: the TLS failure names ca_file, before any token is spent.
        let other = try TestPKI(directory: directory, name: "other-ca").root
        let box = try await startBox(token: nil, caFile: other)
        let untrusted = enroll(box, ["--token", try newToken()])
        XCTAssertEqual(untrusted.status, 1)
        XCTAssertTrue(untrusted.err.contains("is not trusted") && untrusted.err.contains("ca_file"), untrusted.err)
        let wrong = enroll(box, ["--token", "GW1-0000-0000-0000"])
        XCTAssertEqual(wrong.status, 1)
        // Nothing is written by a failed enrolment.
        XCTAssertFalse(FileManager.default.fileExists(atPath: box.dataDirectory + "/tls/box.key"))
        // The daemon started without a certificate and said what to do.
        XCTAssertTrue(log(box.logPath).contains("gatewayd enroll --token"), log(box.logPath))
    }

    // MARK: Acceptance 2

    /// A certificate of 10 minutes (the hub's shortest), renewed (`enroll --renew-now`, the
    /// daemon's own renewal) while a package is on the wire through a 1 MB/s proxy: the upload
    /// completes on its connection, in one go, and the new certificate is in use after it.
    func testRenewalDuringAnUploadDoesNotInterruptIt() async throws {
        try await startHub(lifetime: "10m")
        let upstreamPort = freeLoopbackPort()
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        proxy.arguments = [repositoryRoot.appendingPathComponent("tools/fault-proxy/fault-proxy").path,
                           "--listen", "127.0.0.1:\(upstreamPort)", "--target", "127.0.0.1:\(port)", "--rate", "1000000"]
        try proxy.run()
        self.proxy = proxy
        try await waitUntil(seconds: 60) { isListening(onLoopbackPort: upstreamPort) }
        let box = try await startBox(token: try newToken(), upstreamPort: upstreamPort)
        let files = BoxIdentityFiles(dataDirectory: box.dataDirectory)
        let oldKey = publicKey(key: files.key)
        let oldExpiry = try XCTUnwrap(RenewalState.load(files.state)).notAfter

        let id = try await submit(box, size: 12_000_000, number: "301")
        try await waitUntil(seconds: 60) { [self] in view(box, id)?.document.state == .sending }
        let asked = enroll(box, ["--renew-now"])
        XCTAssertEqual(asked.status, 0, asked.err)
        try await waitUntil(seconds: 60) { RenewalState.load(files.state)?.renewedAt != nil }
        // Renewed while the package was still on its way.
        XCTAssertEqual(view(box, id)?.document.state, .sending, "the renewal came after the upload" + log(box.logPath))
        let renewed = try XCTUnwrap(RenewalState.load(files.state))
        XCTAssertGreaterThan(renewed.notAfter, oldExpiry)
        XCTAssertNil(renewed.lastErrorEn)
        XCTAssertNotEqual(publicKey(key: files.key), oldKey, "a new key, made on the box")
        XCTAssertEqual(publicKey(certificate: files.certificate), publicKey(key: files.key))
        XCTAssertFalse(FileManager.default.fileExists(atPath: files.next.key))

        try await waitUntil(seconds: 120) { [self] in view(box, id)?.document.state == .delivered }
        let history = try XCTUnwrap(view(box, id)?.history)
        XCTAssertEqual(history.filter { $0.toState == .sending }.count, 1, "sent in one go: \(history.map(\.cause))")
        XCTAssertEqual(handedOff(), 1)
        // New connections use the new certificate: a document after the renewal relays too.
        let after = try await submit(box, size: 10_000, number: "302")
        try await waitUntil(seconds: 60) { [self] in view(box, after)?.document.state == .delivered }
    }

    /// A 3-minute certificate (backdated five minutes by the hub: its 2/3 falls about 20 s after
    /// it is issued, ± 5 % of 8 minutes): the daemon renews it by itself, before expiry, and the
    /// relay goes on with the new one.
    func testTheDaemonRenewsAShortLivedCertificateByItself() async throws {
        try await startHub(lifetime: "3m")
        let box = try await startBox(token: try newToken())
        let files = BoxIdentityFiles(dataDirectory: box.dataDirectory)
        let first = try XCTUnwrap(RenewalState.load(files.state))
        try await waitUntil(seconds: 150) { RenewalState.load(files.state)?.renewedAt != nil }
        let renewed = try XCTUnwrap(RenewalState.load(files.state))
        XCTAssertLessThan(try XCTUnwrap(renewed.renewedAt), first.notAfter, "renewed before expiry")
        XCTAssertGreaterThan(renewed.notAfter, first.notAfter)
        XCTAssertGreaterThan(renewed.nextAttemptAt, try XCTUnwrap(renewed.renewedAt), "the next renewal is later, not at once")
        XCTAssertEqual(publicKey(certificate: files.certificate), publicKey(key: files.key))
        let id = try await submit(box, size: 20_000, number: "501")
        try await waitUntil(seconds: 60) { [self] in view(box, id)?.document.state == .delivered }
    }

    func testAHubRefusingRenewalLeavesTheOldCertificateInUseAndAWarning() async throws {
        try await startHub()
        let box = try await startBox(token: try newToken())
        let files = BoxIdentityFiles(dataDirectory: box.dataDirectory)
        let certificate = try Data(contentsOf: URL(fileURLWithPath: files.certificate))
        // The same hub, no longer issuing.
        stopHub()
        try await startHub(issuing: false)
        XCTAssertEqual(enroll(box, ["--renew-now"]).status, 0)
        try await waitUntil(seconds: 60) { box.cli(["status"]).out.contains("Gia hạn chứng thư số thất bại") }
        let status = box.cli(["status"]).out
        XCTAssertTrue(status.contains("CẢNH BÁO / WARNING") && status.contains("renewing the box's certificate failed"), status)
        let metrics = try XCTUnwrap(BoxCertificateStatus.read(dataDirectory: box.dataDirectory, now: Date()))
        XCTAssertNotNil(metrics.warning)
        XCTAssertGreaterThanOrEqual(metrics.failures, 1)
        // The old certificate stays, and the relay goes on with it.
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: files.certificate)), certificate)
        let id = try await submit(box, size: 20_000, number: "401")
        try await waitUntil(seconds: 60) { [self] in view(box, id)?.document.state == .delivered }
    }
}

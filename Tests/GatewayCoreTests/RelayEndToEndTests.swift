import DocumentModel
import Foundation
import TestSupport
import XCTest
@testable import GatewayCore
import TimeJSON

/// Issue 6, acceptance 1, on loopback with the real `hubd` and a test PKI made by openssl:
/// a document submitted to gatewayd arrives once in hubd's hand-off folder and the box keeps a
/// receipt that openssl verifies; a document posted down through hubd's office API (by curl, an
/// independent client) arrives in the box's inbox and hubd receives the box's 01 status.
///
/// Needs `hubd` (the hub branch's `.build/debug/hubd`, or the path in `HUBD`), curl and openssl.
final class RelayEndToEndTests: XCTestCase {
    /// What SigningEndToEndTests starts too.
    static var hubd: String { Hubd.binary }

    var directory = ""
    var hub: Process?
    var box: RunningDaemon?
    var port = 0
    var upstreamPort = 0
    var extraBoxes: [RunningDaemon] = []

    override func setUp() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Hubd.binary), "needs hubd: build it on the hub branch, or set HUBD")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-relay-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        box?.stop()
        for extra in extraBoxes { extra.stop() }
        if let hub, hub.isRunning { hub.terminate(); hub.waitUntilExit() }
        // The proxy inherits Foundation's blocked signal mask (SIGTERM would never arrive): SIGKILL.
        if let proxy, proxy.isRunning { kill(proxy.processIdentifier, SIGKILL); proxy.waitUntilExit() }
        TestLogs.keep(directory + "/hubd.log", as: "hubd")  // for scripts/test's search for secrets
        try? FileManager.default.removeItem(atPath: directory)
    }

    var pki: TestPKI!
    var office: TestPKI.Signer!
    /// Each box's organization certificate (by its data directory), which seals what it submits:
    /// a `"signed": true` claim is checked at intake against `[trust]` and `[agency] tax_code`.
    var seals: [String: TestPKI.Signer] = [:]

    /// A commune's organization certificate with its own tax code, and the box settings that make
    /// the box recognise it (`[agency] tax_code`, `[trust] anchors`).
    func issueSeal(code: String, name: String? = nil) throws -> (signer: TestPKI.Signer, taxCode: String) {
        let taxCode = "01012345" + String(code.suffix(2))
        let name = name ?? "UBND xã \(code)"
        let signer = try pki.issue("seal-\(code)", subject: "/CN=\(name)/O=\(name)/UID=MST:\(taxCode)", key: .p256)
        return (signer, taxCode)
    }
    var handoff: String { directory + "/handoff" }
    var proxy: Process?

    /// The test PKI, hubd on a free loopback port, and the box pointed at `upstreamPort` (the hub's
    /// own port, or a fault proxy's).
    /// `hubNames`: the hub certificate's subjectAltName; `boxCode`: the CN of the box's certificate
    /// (the box's configured code stays 000.00.20.H13); `boxTrustsOtherCA`: the box's `ca_file` is
    /// a CA that did not issue the hub's certificate; `caRotation`: the file holds that other CA
    /// first and the hub's CA second (the old and the new CA while the hub's CA is rotated).
    func startHubAndBox(maximumDocumentSize: String = "100 MB", throughProxy proxyArguments: [String]? = nil,
                        hubNames: String = "DNS:localhost,IP:127.0.0.1", boxCode: String = "000.00.20.H13",
                        boxTrustsOtherCA: Bool = false, caRotation: Bool = false, hubCertificateDays: Int = 10) async throws -> RunningDaemon {
        let d = directory
        pki = try TestPKI(directory: d, name: "ca", subject: "/CN=Relay test CA/O=Sở TT&TT (thử nghiệm)")
        let server = try pki.issue("hub", subject: "/CN=localhost/O=UBND tỉnh Quảng Trị", key: .p256, extensions: """
            keyUsage=critical,digitalSignature
            extendedKeyUsage=serverAuth
            subjectAltName=\(hubNames)

            """, days: hubCertificateDays)
        let boxCertificate = try pki.issue("box", subject: "/CN=\(boxCode)/O=UBND xã Hòa Tiến", key: .p256, extensions: """
            keyUsage=critical,digitalSignature
            extendedKeyUsage=clientAuth

            """)
        office = try pki.issue("office", subject: "/CN=000.00.00.H41/O=UBND tỉnh Quảng Trị", key: .p256, extensions: """
            keyUsage=critical,digitalSignature
            extendedKeyUsage=clientAuth

            """)
        port = freeLoopbackPort()
        hub = try await Hubd.start(config: """
            [server]
            listen = "127.0.0.1:\(port)"
            certificate = "\(server.chain)"
            key = "\(server.key)"
            client_ca = "\(pki.root)"

            [hub]
            code = "000.00.00.H41"
            name = "UBND tỉnh Quảng Trị"
            data_directory = "\(d)/hub"
            handoff_directory = "\(handoff)"

            [office]
            codes = ["000.00.00.H41"]

            [[agency]]
            code = "000.00.00.H41"
            name = "UBND tỉnh Quảng Trị"
            served = false

            [[agency]]
            code = "000.00.20.H13"
            name = "UBND xã Hòa Tiến"
            served = true

            [[agency]]
            code = "000.00.20.H14"
            name = "UBND xã Hòa Khương"
            served = true

            [[agency]]
            code = "000.00.20.H15"
            name = "UBND xã Hòa Phong"
            served = true
            """, directory: d, port: port)

        upstreamPort = port
        if let proxyArguments {
            upstreamPort = freeLoopbackPort()
            let proxy = Process()
            proxy.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            proxy.arguments = [repositoryRoot.appendingPathComponent("tools/fault-proxy/fault-proxy").path,
                               "--listen", "127.0.0.1:\(upstreamPort)", "--target", "127.0.0.1:\(port)", "--stats", d + "/proxy.json"] + proxyArguments
            try proxy.run()
            self.proxy = proxy
            try await waitUntil(seconds: 60) { [upstreamPort] in isListening(onLoopbackPort: upstreamPort) }
        }

        var caFile = pki.root
        if boxTrustsOtherCA || caRotation {
            let other = try TestPKI(directory: d, name: "other-ca").root
            caFile = other
            if caRotation {
                caFile = d + "/rotating-ca.pem"
                try (try String(contentsOfFile: other, encoding: .utf8) + String(contentsOfFile: pki.root, encoding: .utf8))
                    .write(toFile: caFile, atomically: true, encoding: .utf8)
            }
        }
        let seal = try issueSeal(code: "000.00.20.H13", name: "UBND xã Hòa Tiến")
        let box = try RunningDaemon(config: """
            [agency]
            code = "000.00.20.H13"
            name = "UBND xã Hòa Tiến"
            tax_code = "\(seal.taxCode)"

            [trust]
            anchors = ["\(pki.root)"]

            [intake]
            disk_reserve = 0
            max_document_size = "\(maximumDocumentSize)"

            [upstream]
            url = "https://localhost:\(upstreamPort)"
            ca_file = "\(caFile)"
            certificate = "\(boxCertificate.chain)"
            key = "\(boxCertificate.key)"
            long_poll = "5s"
            idle_timeout = "10s"
            retry_base = "200ms"
            retry_cap = "2s"
            """)
        self.box = box
        seals[box.dataDirectory] = seal.signer
        try await box.waitUntilReady()
        return box
    }

    /// Submits a document sealed by the box's organization on the local API; returns its id.
    func submit(_ box: RunningDaemon, _ content: [UInt8], number: String, priority: Int = 3) async throws -> DocumentID {
        let path = directory + "/doc-\(number).pdf"
        try await SignedSamplePDF.write(path, padding: content, signedBy: [try XCTUnwrap(seals[box.dataDirectory])])
        let metadata = #"{"file_name": "Quyết định \#(number).pdf", "recipients": ["000.00.00.H41"], "subject": "Về việc ứng phó bão số 9", "number": "\#(number)", "notation": "QĐ-UBND", "priority": \#(priority), "signed": true}"#
        let submitted = box.curl(["--data-binary", "@\(path)", "-H", "X-Gateway-Metadata: " + Data(metadata.utf8).base64EncodedString()])
        XCTAssertEqual(submitted.http, 201, submitted.body)
        return try GatewayJSON.decoder.decode(DocumentView.self, from: Data(submitted.body.utf8)).document.id
    }

    func state(_ box: RunningDaemon, _ id: DocumentID) -> DocumentState? {
        let shown = box.curl([], path: "/v1/documents/\(id)")
        return (try? GatewayJSON.decoder.decode(DocumentView.self, from: Data(shown.body.utf8)))?.document.state
    }

    func handedOff() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: handoff).filter { $0.hasSuffix(".edxml") }
    }

    /// xmlsec1 (an XMLDSig implementation independent of ours) verifies the package at `path`
    /// against the test CA that issued the box's certificate.
    func assertXMLSignatureVerifies(_ path: String, file: StaticString = #filePath, line: UInt = #line) {
        let verdict = runProgram(Self.xmlsec1, ["--verify", "--trusted-pem", pki.root, path])
        XCTAssertEqual(verdict.status, 0, "xmlsec1 on \(path): \(verdict.err)", file: file, line: line)
    }

    static let xmlsec1 = "/usr/bin/xmlsec1"

    func testDocumentUpAndDocumentDownWithStatus() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.xmlsec1), "needs xmlsec1 (scripts/install-deps)")
        let d = directory
        let box = try await startHubAndBox()
        let office = self.office!, pki = self.pki!

        // Up: a signed document submitted on the local API.
        let id = try await submit(box, randomBytes(200_000), number: "125")
        try? await waitUntil(seconds: 60) { [self] in state(box, id) == .delivered || state(box, id) == .rejected }
        XCTAssertEqual(state(box, id), .delivered, log(box.logPath) + log(d + "/hubd.log"))

        // The province's monitoring sees it too (Prometheus text on the local API).
        let metrics = box.curl([], path: "/metrics")
        XCTAssertEqual(metrics.http, 200)
        XCTAssertTrue(metrics.body.contains("gatewayd_relay_link_up 1.0") && metrics.body.contains(#"gatewayd_documents{state="delivered"} 1.0"#)
                      && metrics.body.contains("gatewayd_relay_queue_age_warning 0.0"), metrics.body)

        // Once in the hand-off folder, byte for byte the package the box built.
        let files = try handedOff()
        XCTAssertEqual(files.count, 1, "\(files)")
        let package = try Data(contentsOf: URL(fileURLWithPath: box.dataDirectory + "/store/packages/\(id).edxml"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: handoff + "/" + XCTUnwrap(files.first))), package)
        // Signed by the box's key (the document arrived signed: no person signs its envelope here),
        // and the signature survives the hub: xmlsec1 verifies the file hubd stored.
        assertXMLSignatureVerifies(handoff + "/" + (files.first ?? ""))

        // The stored receipt, judged by openssl against the hub CA.
        let receiptPath = d + "/receipt.p7s"
        let fetched = runProgram("/usr/bin/curl", ["-sS", "--unix-socket", box.socket, "-o", receiptPath, "-w", "%{http_code}",
                                                   "http://gateway/v1/documents/\(id)/receipt"])
        XCTAssertEqual(fetched.out, "200", fetched.err)
        let verified = runProgram("/usr/bin/openssl", ["cms", "-verify", "-inform", "DER", "-in", receiptPath, "-CAfile", pki.root,
                                                       "-purpose", "any"])
        XCTAssertEqual(verified.status, 0, verified.err)
        XCTAssertTrue(verified.out.contains(#""key":"000.00.20.H13,"#), verified.out)

        // Down: the province's document system posts a document to the commune (curl, office certificate).
        let downPath = d + "/down.edxml"
        FileManager.default.createFile(atPath: d + "/cv.pdf", contents: Data("Công văn của tỉnh".utf8))
        let packed = box.cli(["edxml", "pack", "--from", "000.00.00.H41", "--from-name", "UBND tỉnh Quảng Trị", "--to", "000.00.20.H13",
                              "--subject", "Về việc kiểm tra đê điều", "--number", "9", "--notation", "UBND-VP", d + "/cv.pdf", "--out", downPath],
                             data: false)
        XCTAssertEqual(packed.status, 0, packed.err)
        let posted = runProgram("/usr/bin/curl", ["-sS", "--cacert", pki.root, "--cert", office.chain, "--key", office.key,
                                                  "--data-binary", "@" + downPath, "-H", "Content-Type: application/xml",
                                                  "-w", "\n%{http_code}", "https://localhost:\(port)/office/v1/packages"])
        XCTAssertTrue(posted.out.hasSuffix("201"), posted.out + posted.err)
        let inbox = box.dataDirectory + "/store/inbox"
        func incoming() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: inbox)) ?? []).filter { $0.hasSuffix(".edxml") && !$0.contains(".status-") }
        }
        try await waitUntil(seconds: 60) {
            incoming().count == 1
                && (try? GatewayJSON.decoder.decode(DaemonStatus.self, from: Data(box.curl([], path: "/v1/status").body.utf8)))?.relay?.inboxReceived == 1
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: inbox + "/" + XCTUnwrap(incoming().first))),
                       try Data(contentsOf: URL(fileURLWithPath: downPath)), "stored byte for byte")

        // The clerks see it in the inbox folder: one folder named like the register, with the
        // attachment byte for byte and the fields in Vietnamese and English.
        let clerks = box.dataDirectory + "/inbox"
        func shown() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: clerks)) ?? []).filter { !$0.hasPrefix(".") } }
        try await waitUntil(seconds: 30) { shown().count == 1 }
        let shownFolder = try XCTUnwrap(shown().first)
        // Its signatures were checked on arrival (issue 14): the province's office posted it
        // unsigned (no --signer, a text file), so it is shown, marked invalid, with the reasons.
        XCTAssertTrue(shownFolder.hasSuffix(" 9-UBND-VP UBND tỉnh Quảng Trị" + InboxFolder.invalidMark), shownFolder)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: clerks + "/" + shownFolder + "/cv.pdf")), Data("Công văn của tỉnh".utf8))
        let information = try String(contentsOfFile: clerks + "/" + shownFolder + "/thong-tin.txt", encoding: .utf8)
        XCTAssertTrue(information.contains("Trích yếu / Subject: Về việc kiểm tra đê điều"), information)
        XCTAssertTrue(information.contains("Nơi gửi / From: UBND tỉnh Quảng Trị (000.00.00.H41)"), information)
        XCTAssertTrue(information.contains("Chữ ký số / Signatures: không hợp lệ / invalid"), information)
        XCTAssertTrue(information.contains("Phong bì: không hợp lệ — phong bì không có chữ ký số của nơi gửi"), information)
        XCTAssertTrue(information.contains("Tệp \"cv.pdf\": không hợp lệ — tệp chưa được ký số\n    (the file \"cv.pdf\": invalid — the file is not digitally signed)"), information)
        let listed = box.cli(["inbox"])
        XCTAssertEqual(listed.status, 0, listed.err)
        XCTAssertTrue(listed.out.contains("000.00.00.H41") && listed.out.contains("không hợp lệ / invalid"), listed.out)
        XCTAssertTrue(listed.out.contains("tệp chưa được ký số") && listed.out.contains("the file is not digitally signed"), listed.out)

        // hubd receives the 01 status: it is handed off to the province (the sender).
        try await waitUntil(seconds: 60) {
            let received = runProgram("/usr/bin/curl", ["-sS", "--cacert", pki.root, "--cert", office.chain, "--key", office.key,
                                                         "https://localhost:\(self.port)/office/v1/received"])
            return received.out.contains(#""kind":"status""#)
        }
        let statuses = try handedOff()
            .map { try String(contentsOfFile: handoff + "/" + $0, encoding: .utf8) }.filter { $0.contains("StatusCode") }
        XCTAssertEqual(statuses.count, 1)
        XCTAssertTrue(statuses.first?.contains(">01<") == true, statuses.first ?? "")
        // The 01 the box signed, stored by hubd byte for byte, and verified there by xmlsec1.
        let arrivalAtHub = try XCTUnwrap(try handedOff().first { (try? String(contentsOfFile: handoff + "/" + $0, encoding: .utf8))?.contains("StatusCode") == true })
        let arrivalAtBox = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: inbox).first { $0.hasSuffix(".status-01.edxml") })
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: handoff + "/" + arrivalAtHub)),
                       try Data(contentsOf: URL(fileURLWithPath: inbox + "/" + arrivalAtBox)))
        assertXMLSignatureVerifies(handoff + "/" + arrivalAtHub)

        let status = box.cli(["status"])
        XCTAssertTrue(status.out.contains("đã kết nối / up"), status.out)

        // A clerk registers the document (03): the province receives that status too.
        let inboxList = try GatewayJSON.decoder.decode(InboxList.self, from: Data(box.curl([], path: "/v1/inbox").body.utf8))
        let hubID = try XCTUnwrap(inboxList.items.first { $0.kind == .document }?.hubId)
        let registered = box.cli(["inbox", "status", String(hubID), "03", "--note", "Đã vào sổ văn bản đến", "--staff", "Lê Thị Văn Thư"])
        XCTAssertEqual(registered.status, 0, registered.out + registered.err)
        XCTAssertTrue(registered.out.contains("Đã ghi nhận trạng thái 03"), registered.out)
        let wrongCode = box.cli(["inbox", "status", String(hubID), "01"])
        XCTAssertNotEqual(wrongCode.status, 0)
        XCTAssertTrue(wrongCode.err.contains("không dùng được") && wrongCode.err.contains("cannot be sent"), wrongCode.err)
        let noReason = box.cli(["inbox", "status", String(hubID), "02"])
        XCTAssertTrue(noReason.err.contains("reason"), noReason.err)
        try await waitUntil(seconds: 60) { [self] in
            ((try? handedOff()) ?? []).compactMap { try? String(contentsOfFile: handoff + "/" + $0, encoding: .utf8) }
                .contains { $0.contains(">03<") }
        }
        let registeredFile = try handedOff().first { (try? String(contentsOfFile: handoff + "/" + $0, encoding: .utf8))?.contains(">03<") == true }
        let registeredStatus = registeredFile.flatMap { try? String(contentsOfFile: handoff + "/" + $0, encoding: .utf8) } ?? ""
        XCTAssertTrue(registeredStatus.contains("Đã vào sổ văn bản đến") && registeredStatus.contains("Lê Thị Văn Thư"), registeredStatus)
        assertXMLSignatureVerifies(handoff + "/" + (registeredFile ?? ""))

        // The hub's directory, fetched by the relay: a clerk addresses a document by name. Its
        // fetch runs beside the rest, so wait for it rather than assume it came first.
        try await waitUntil(seconds: 60) { box.curl([], path: "/v1/directory").body.contains("000.00.00.H41") }
        let listing = box.cli(["directory", "quảng", "TRỊ"])
        XCTAssertTrue(listing.out.contains("000.00.00.H41  UBND tỉnh Quảng Trị") && listing.out.contains("1 cơ quan / agencies"), listing.out)
        let path = d + "/by-name.pdf"
        FileManager.default.createFile(atPath: path, contents: Data(SamplePDF.bytes("Báo cáo")))
        func send(to name: String) -> (http: Int, body: String) {
            let metadata = #"{"file_name": "Báo cáo.pdf", "recipients": ["\#(name)"], "subject": "Báo cáo tình hình bão", "number": "7", "notation": "BC-UBND"}"#
            let answer = box.curl(["--data-binary", "@\(path)", "-H", "X-Gateway-Metadata: " + Data(metadata.utf8).base64EncodedString()])
            return (answer.http, answer.body)
        }
        let named = send(to: "ubnd  tỉnh Quảng Trị")
        XCTAssertEqual(named.http, 201, named.body)
        XCTAssertEqual(try GatewayJSON.decoder.decode(DocumentView.self, from: Data(named.body.utf8)).document.metadata.recipients.map(\.rawValue),
                       ["000.00.00.H41"], "case and spacing do not matter")
        let misspelt = send(to: "UBND tỉnh Quảng")
        XCTAssertEqual(misspelt.http, 400, misspelt.body)
        XCTAssertTrue(misspelt.body.contains("unknown_agency_name") && misspelt.body.contains("UBND tỉnh Quảng Trị (000.00.00.H41)"), misspelt.body)
    }

    /// Acceptance 3 (first part): resets in the middle of a large upload. The fault proxy resets
    /// every connection after 20 MB sent; the upload must complete with HEAD-and-continue, the
    /// bytes that crossed the wire must stay under 1.3 × the package, and the hub holds one copy.
    func testLargeUploadResumesThroughResets() async throws {
        let d = directory
        let box = try await startHubAndBox(maximumDocumentSize: "120 MB", throughProxy: ["--reset-after", "20000000"])
        let id = try await submit(box, randomBytes(100_000_000), number: "200")
        try? await waitUntil(seconds: 900) { [self] in state(box, id) == .delivered || state(box, id) == .rejected }
        XCTAssertEqual(state(box, id), .delivered, log(box.logPath) + log(d + "/hubd.log"))
        let packageSize = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: box.dataDirectory + "/store/packages/\(id).edxml")[.size] as? Int)
        struct Counters: Decodable { var upstream_received: Int; var resets: Int; var connections: Int }
        let counters = try JSONDecoder().decode(Counters.self, from: Data(contentsOf: URL(fileURLWithPath: d + "/proxy.json")))
        XCTAssertGreaterThanOrEqual(counters.resets, 4, "the proxy really broke the upload: \(counters)")
        XCTAssertLessThan(Double(counters.upstream_received), 1.3 * Double(packageSize),
                          "sent \(counters.upstream_received) bytes for a \(packageSize)-byte package")
        XCTAssertEqual(try handedOff().count, 1, "one copy at the hub")
        let package = try Data(contentsOf: URL(fileURLWithPath: box.dataDirectory + "/store/packages/\(id).edxml"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: handoff + "/" + XCTUnwrap(handedOff().first))), package)
        print("resumption: package \(packageSize) bytes, sent \(counters.upstream_received) (\(String(format: "%.3f", Double(counters.upstream_received) / Double(packageSize)))×), resets \(counters.resets), connections \(counters.connections)")
    }

    struct ProxyCounters: Decodable { var upstream_received = 0 }

    /// The fault proxy's counters as last written (zero before its first write).
    func proxyCounters() -> ProxyCounters {
        (try? JSONDecoder().decode(ProxyCounters.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/proxy.json")))) ?? ProxyCounters()
    }

    func log(_ path: String) -> String { "\n--- \(path)\n" + ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "") }

    func relayStatus(_ box: RunningDaemon) -> RelayStatus? {
        (try? GatewayJSON.decoder.decode(DaemonStatus.self, from: Data(box.curl([], path: "/v1/status").body.utf8)))?.relay
    }

    /// Acceptance 2, the box's side: a hub whose certificate the box cannot trust (another CA, or
    /// not for the configured host name) is refused at the handshake. The document stays queued,
    /// nothing reaches the hub, and the status says why.
    func testBoxRefusesAHubCertificateFromAnotherCA() async throws {
        try await assertHubRefusedByBox(try await startHubAndBox(boxTrustsOtherCA: true), saying: "is not from the configured CA")
    }

    func testBoxRefusesAHubCertificateForAnotherName() async throws {
        try await assertHubRefusedByBox(try await startHubAndBox(hubNames: "DNS:hub.example.vn"), saying: "is for hub.example.vn, not for localhost")
    }

    func testBoxRefusesAnExpiredHubCertificate() async throws {
        try await assertHubRefusedByBox(try await startHubAndBox(hubCertificateDays: -1), saying: "expired at")
    }

    /// `saying`: what the status must say of the hub's certificate (HubTLSDiagnosis), so that a
    /// technician knows which of the three to fix.
    func assertHubRefusedByBox(_ box: RunningDaemon, saying reason: String) async throws {
        let id = try await submit(box, randomBytes(10_000), number: "7")
        try await waitUntil(seconds: 30) { [self] in relayStatus(box)?.lastError != nil }
        let status = try XCTUnwrap(relayStatus(box))
        XCTAssertEqual(status.link, .down)
        XCTAssertTrue(status.lastError?.contains("tls") == true, status.lastError ?? "")
        XCTAssertTrue(status.lastError?.contains(reason) == true, "expected “\(reason)” in: \(status.lastError ?? "")")
        XCTAssertNotEqual(state(box, id), .delivered)
        XCTAssertNotEqual(state(box, id), .rejected, "a certificate problem is retried, not a reason to give the document up")
        XCTAssertEqual(try handedOff(), [], "nothing reached the hub")
        let text = box.cli(["status"]).out
        XCTAssertTrue(text.contains("MẤT KẾT NỐI / DOWN") && text.contains("Lỗi gần nhất / last error"), text)
    }

    /// Acceptance 2, the hub's side as the box sees it: a box whose certificate belongs to
    /// another commune cannot send as 000.00.20.H13; the hub refuses (403 sender_mismatch), the
    /// box rejects the document with the hub's reason in Vietnamese and English, and stops trying.
    func testAnotherCommunesCertificateGetsTheDocumentRejected() async throws {
        let box = try await startHubAndBox(boxCode: "000.00.20.H14")
        let id = try await submit(box, randomBytes(10_000), number: "8")
        try? await waitUntil(seconds: 30) { [self] in state(box, id) == .rejected }
        let shown = box.curl([], path: "/v1/documents/\(id)")
        let view = try GatewayJSON.decoder.decode(DocumentView.self, from: Data(shown.body.utf8))
        XCTAssertEqual(view.document.state, .rejected, shown.body)
        let reason = view.document.stateReason ?? ""
        XCTAssertTrue(reason.contains("000.00.20.H14") && reason.contains(" / "), reason)
        XCTAssertEqual(try handedOff(), [], "nothing stored at the hub")
    }

    /// Acceptance 4: `kill -9` of gatewayd while it relays, repeated (RELAY_KILL_CYCLES, default 8). Every document the box
    /// acknowledged reaches the hub exactly once (one hand-off file each, byte for byte the
    /// box's package) and ends `delivered` with a receipt.
    func testKillDuringRelayDeliversEveryDocumentExactlyOnce() async throws {
        let d = directory
        // Through the fault proxy capped at 1 MB/s, so a 2 MB package takes about two seconds
        // and the kills land in the middle of uploads, not only between them.
        let box = try await startHubAndBox(throughProxy: ["--rate", "1000000"])
        var acknowledged: [DocumentID] = []
        let cycles = Int(ProcessInfo.processInfo.environment["RELAY_KILL_CYCLES"] ?? "8") ?? 8
        for cycle in 0..<cycles {
            // A mix: small ones (one POST) and ones above 1 MiB once packaged (tus).
            for index in 0..<3 {
                let size = index == 0 ? 1_500_000 : 20_000
                acknowledged.append(try await submit(box, randomBytes(size), number: "\(100 + cycle * 3 + index)", priority: index))
            }
            // Kill at a point the relay has reached, not after a time: every other cycle once a
            // document is packaged and queued, the others once one is on the wire.
            let cycleDocuments = acknowledged.suffix(3)
            let reached: Set<DocumentState> = cycle % 2 == 0 ? [.queued, .sending, .delivered] : [.sending, .delivered]
            try await waitUntil(seconds: 60) { [self] in cycleDocuments.contains { state(box, $0).map(reached.contains) == true } }
            try await box.killAndRestart()
        }
        try? await waitUntil(seconds: 180) { [self] in acknowledged.allSatisfy { state(box, $0) == .delivered } }
        for id in acknowledged { XCTAssertEqual(state(box, id), .delivered, "\(id)" + log(box.logPath)) }
        let files = try handedOff()
        XCTAssertEqual(files.count, acknowledged.count, "exactly once at the hub")
        let atHub = Set(try files.map { try Data(contentsOf: URL(fileURLWithPath: handoff + "/" + $0)) })
        let onBox = Set(try acknowledged.map { try Data(contentsOf: URL(fileURLWithPath: box.dataDirectory + "/store/packages/\($0).edxml")) })
        XCTAssertEqual(atHub, onBox, "the hub holds exactly the packages the box built")
        for id in acknowledged {
            let receipt = runProgram("/usr/bin/curl", ["-sS", "--unix-socket", box.socket, "-o", "/dev/null", "-w", "%{http_code}",
                                                       "http://gateway/v1/documents/\(id)/receipt"])
            XCTAssertEqual(receipt.out, "200", "receipt kept for \(id)")
        }
        // How many documents a kill caught in `sending` (their history says so): the test is only
        // worth something when this is not zero over a run.
        let caught = acknowledged.filter { box.curl([], path: "/v1/documents/\($0)").body.contains("interrupted by a restart") }.count
        print("kill -9 during relay: \(cycles) kills, \(acknowledged.count) documents, \(caught) caught while sending, all delivered once")
        _ = d
    }

    /// Priority lanes: a Hỏa tốc document submitted while a large Thường package is uploading
    /// (through the proxy at 2 MB/s per connection) is delivered while the large one is still
    /// on its way — it did not wait behind it.
    func testUrgentDocumentOvertakesALargeOrdinaryUpload() async throws {
        let box = try await startHubAndBox(throughProxy: ["--rate", "2000000"])
        let large = try await submit(box, randomBytes(12_000_000), number: "300", priority: 0)
        try await waitUntil(seconds: 30) { [self] in state(box, large) == .sending }
        // Its bytes are crossing the proxy: the upload is under way, not about to start.
        try await waitUntil(seconds: 30) { [self] in proxyCounters().upstream_received > 1_000_000 }
        let urgent = try await submit(box, randomBytes(10_000), number: "301", priority: 3)
        try await waitUntil(seconds: 30) { [self] in state(box, urgent) == .delivered }
        XCTAssertEqual(state(box, large), .sending, "the urgent document went first; the large one is still uploading")
        try? await waitUntil(seconds: 120) { [self] in state(box, large) == .delivered }
        XCTAssertEqual(state(box, large), .delivered)
        XCTAssertEqual(try handedOff().count, 2)
    }

    /// Acceptance 3, second part: hubd killed (`kill -9`) and restarted in the middle of an
    /// upload. The box retries, resumes the upload where the hub's disk has it, and the hub ends
    /// with one copy.
    func testHubKilledAndRestartedDuringAnUpload() async throws {
        let box = try await startHubAndBox(throughProxy: ["--rate", "2000000"])
        let id = try await submit(box, randomBytes(8_000_000), number: "400", priority: 0)
        try await waitUntil(seconds: 30) { [self] in state(box, id) == .sending }
        // Killed once part of the package is on the hub's disk, so the restart has something to resume.
        try await waitUntil(seconds: 60) { [self] in proxyCounters().upstream_received > 3_000_000 }
        let hub = try XCTUnwrap(self.hub)
        kill(hub.processIdentifier, SIGKILL)
        hub.waitUntilExit()
        // Restarted once the box has noticed the hub gone (its link down), not after a time.
        try await waitUntil(seconds: 60) { [self] in relayStatus(box)?.link == .down }
        let again = Process()
        again.executableURL = hub.executableURL
        again.arguments = hub.arguments
        again.standardError = FileHandle(forWritingAtPath: directory + "/hubd.log")
        try again.run()
        self.hub = again
        try? await waitUntil(seconds: 120) { [self] in state(box, id) == .delivered }
        XCTAssertEqual(state(box, id), .delivered, log(box.logPath) + log(directory + "/hubd.log"))
        XCTAssertEqual(try handedOff().count, 1, "one copy at the hub")
        let package = try Data(contentsOf: URL(fileURLWithPath: box.dataDirectory + "/store/packages/\(id).edxml"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: handoff + "/" + XCTUnwrap(handedOff().first))), package)
        struct Counters: Decodable { var upstream_received: Int }
        let counters = try JSONDecoder().decode(Counters.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/proxy.json")))
        print("hub restart: package \(package.count) bytes, sent \(counters.upstream_received) (\(String(format: "%.3f", Double(counters.upstream_received) / Double(package.count)))×)")
        XCTAssertLessThan(Double(counters.upstream_received), 1.3 * Double(package.count), "resumed, not sent again from the start")
    }

    /// Another commune's box on the same hub (after `startHubAndBox`).
    func startExtraBox(code: String) async throws -> RunningDaemon {
        let certificate = try pki.issue("box-\(code)", subject: "/CN=\(code)/O=UBND xã", key: .p256, extensions: """
            keyUsage=critical,digitalSignature
            extendedKeyUsage=clientAuth

            """)
        let seal = try issueSeal(code: code)
        let box = try RunningDaemon(config: """
            [agency]
            code = "\(code)"
            tax_code = "\(seal.taxCode)"

            [trust]
            anchors = ["\(pki.root)"]

            [intake]
            disk_reserve = 0

            [upstream]
            url = "https://localhost:\(upstreamPort)"
            ca_file = "\(pki.root)"
            certificate = "\(certificate.chain)"
            key = "\(certificate.key)"
            long_poll = "5s"
            retry_base = "200ms"
            retry_cap = "2s"
            """)
        extraBoxes.append(box)
        seals[box.dataDirectory] = seal.signer
        try await box.waitUntilReady()
        return box
    }

    /// Acceptance 3, last part: three boxes at once on one hub. Each sends three documents to the
    /// province and one to the next commune; the hub hands off exactly the nine for the province,
    /// each commune receives its neighbour's document and the 01 status for its own.
    func testThreeBoxesAtOnce() async throws {
        let first = try await startHubAndBox()
        let boxes = [first, try await startExtraBox(code: "000.00.20.H14"), try await startExtraBox(code: "000.00.20.H15")]
        let codes = ["000.00.20.H13", "000.00.20.H14", "000.00.20.H15"]
        var sent: [(RunningDaemon, DocumentID)] = []
        for round in 0..<3 {
            for (index, box) in boxes.enumerated() {
                sent.append((box, try await submit(box, randomBytes(50_000 + round * 1_000_000), number: "\(500 + round * 10 + index)", priority: round)))
            }
        }
        for (index, box) in boxes.enumerated() {
            let path = directory + "/neighbour-\(index).pdf"
            try await SignedSamplePDF.write(path, text: "Giay moi hop lien xa", signedBy: [try XCTUnwrap(seals[box.dataDirectory])])
            let metadata = #"{"file_name": "Giấy mời.pdf", "recipients": ["\#(codes[(index + 1) % 3])"], "subject": "Giấy mời họp liên xã", "number": "\#(600 + index)", "notation": "GM-UBND", "signed": true}"#
            let submitted = box.curl(["--data-binary", "@\(path)", "-H", "X-Gateway-Metadata: " + Data(metadata.utf8).base64EncodedString()])
            XCTAssertEqual(submitted.http, 201, submitted.body)
            sent.append((box, try GatewayJSON.decoder.decode(DocumentView.self, from: Data(submitted.body.utf8)).document.id))
        }
        try? await waitUntil(seconds: 180) { [self] in
            sent.allSatisfy { state($0.0, $0.1) == .delivered } && boxes.allSatisfy { relayStatus($0)?.inboxReceived == 2 }
        }
        for (box, id) in sent { XCTAssertEqual(state(box, id), .delivered, "\(id)") }
        XCTAssertEqual(try handedOff().count, 9, "the nine documents for the province, nothing else")
        for box in boxes {
            XCTAssertEqual(relayStatus(box)?.inboxReceived, 2, "the neighbour's document and the 01 for our own: " + log(box.logPath))
        }
        // Each neighbour's 01 "đã đến" is attached to the document it is about.
        for (index, (box, id)) in sent.suffix(3).enumerated() {
            let shown = box.curl([], path: "/v1/documents/\(id)")
            let view = try GatewayJSON.decoder.decode(DocumentView.self, from: Data(shown.body.utf8))
            XCTAssertEqual(view.statuses?.map(\.statusCode), ["01"], shown.body)
            XCTAssertEqual(view.statuses?.first?.fromCode, codes[(index + 1) % 3])
            let text = box.cli(["show", id.description])
            XCTAssertTrue(text.out.contains("01 Đã đến / arrived"), text.out)
        }
    }
}

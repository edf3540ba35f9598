import Crypto
import EdXML
import Foundation
import TestSupport
import XCTest

/// The real `hubd` binary on a loopback port with a test PKI made by openssl, spoken to by curl
/// (an independent HTTP and TLS client); receipts judged by `openssl cms -verify`.
struct HubTestFailure: Error, CustomStringConvertible {
    let description: String
}

final class RunningHub: @unchecked Sendable {
    static var binary: String { repositoryRoot.appendingPathComponent(".build/debug/hubd").path }
    static let hubCode = "000.00.00.H41"
    static let commune = "000.00.20.H13"
    static let neighbour = "000.00.20.H14"
    static let third = "000.00.20.H15"

    let directory: String
    let port: Int
    var process = Process()
    /// Signalled when the current hubd process ends (its termination handler).
    var exited = DispatchSemaphore(value: 0)
    /// The log's length when the current process started: its own lines come after.
    var logStart = 0
    let clients: TestPKI
    let hubCA: TestPKI
    var data: String { directory + "/data" }
    var handoff: String { directory + "/handoff" }
    var log: String { directory + "/hubd.log" }
    var crlFile: String { directory + "/clients-crl.pem" }

    /// `extraConfiguration`: TOML appended to the test configuration (e.g. a `[proxy]` table);
    /// `limits`: the `[limits]` table's lines. `crl`: the clients' CA is also the hub's issuing CA
    /// (`[ca]`), and hubd enforces its CRL, `crlFile`, written empty by `hubd revoke --refresh`
    /// before hubd starts.
    init(extraConfiguration: String = "", limits: String = "idle_timeout_seconds = 5", crl: Bool = false) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hubd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        clients = try TestPKI(directory: directory, name: "clients-ca", subject: "/CN=Clients CA/O=Sở TT&TT (thử nghiệm)")
        hubCA = try TestPKI(directory: directory, name: "hub-ca", subject: "/CN=Hub CA/O=Sở TT&TT (thử nghiệm)")
        _ = try hubCA.issue("hub", subject: "/CN=localhost/O=UBND tỉnh (thử nghiệm)", key: .p256,
                            extensions: "subjectAltName=DNS:localhost,IP:127.0.0.1\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
        // Receipts are signed by their own key (a signing certificate, as openssl cms expects).
        _ = try hubCA.issue("receipts", subject: "/CN=\(Self.hubCode)/O=UBND tỉnh (thử nghiệm)", key: .rsa2048)
        for (name, code) in [("box", Self.commune), ("neighbour", Self.neighbour), ("third", Self.third), ("office", Self.hubCode), ("stranger", "000.00.20.H99")] {
            _ = try clients.issue(name, subject: "/CN=\(code)/O=UBND xã Hòa Tiến", key: .p256,
                                  extensions: "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
        }
        port = freeLoopbackPort()
        let config = """
            [server]
            listen = "127.0.0.1:\(port)"
            certificate = "\(directory)/hub.pem"
            key = "\(directory)/hub.key"
            client_ca = "\(clients.root)"
            \(crl ? "crl_file = \"\(directory)/clients-crl.pem\"" : "")
            [hub]
            code = "\(Self.hubCode)"
            name = "UBND tỉnh Quảng Trị"
            data_directory = "\(data)"
            handoff_directory = "\(handoff)"
            [receipts]
            key = "\(directory)/receipts.key"
            certificate = "\(directory)/receipts.pem"
            [office]
            codes = ["\(Self.hubCode)"]
            [limits]
            \(limits)
            [[agency]]
            code = "\(Self.hubCode)"
            name = "UBND tỉnh Quảng Trị"
            [[agency]]
            code = "\(Self.commune)"
            name = "UBND xã Hòa Tiến"
            served = true
            [[agency]]
            code = "\(Self.neighbour)"
            name = "UBND xã Hòa Lợi"
            served = true
            [[agency]]
            code = "\(Self.third)"
            name = "UBND xã Hòa Thạnh"
            served = true
            """ + "\n" + extraConfiguration
            + (crl ? "\n[ca]\ncertificate_file = \"\(clients.root)\"\nkey_file = \"\(directory)/clients-ca.key\"\n" : "")
        try config.write(toFile: directory + "/hubd.toml", atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: log, contents: nil)
        if crl {
            let written = runProgram(Self.binary, ["revoke", "--refresh", "--config", directory + "/hubd.toml"])
            guard written.status == 0 else { throw HubTestFailure(description: "hubd revoke --refresh: \(written.err)") }
        }
        try start()
    }

    func start() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--config", directory + "/hubd.toml"]
        let handle = FileHandle(forWritingAtPath: log)
        handle?.seekToEndOfFile()
        process.standardError = handle
        // Debug: tests wait for lines such as "long poll waiting".
        process.environment = ProcessInfo.processInfo.environment.merging(["HUBD_LOG_LEVEL": "debug"]) { $1 }
        let exited = DispatchSemaphore(value: 0)
        self.exited = exited
        process.terminationHandler = { _ in exited.signal() }
        logStart = fileSize(log) ?? 0
        try process.run()
    }

    /// Waits for the process to end, at most `timeout`; whether it ended.
    func waitForExit(timeout: Duration) -> Bool {
        exited.wait(timeout: .now() + .nanoseconds(Int(timeout.components.seconds) * 1_000_000_000)) == .success
    }

    /// The hub dies without a chance to tidy up (power cut, OOM killer).
    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Peak resident memory of the running hubd so far, in bytes (VmHWM).
    func peakMemory() -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return (Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0) * 1024
        }
        return 0
    }

    /// Waits for this process's "hubd listening" line (written once the port is bound).
    func waitUntilReady() async throws {
        let listening = { [self] in
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return String(decoding: text.utf8.dropFirst(logStart), as: UTF8.self).contains("hubd listening")
        }
        guard waitUntil(changesIn: directory, { listening() || !process.isRunning }), listening() else {
            throw HubTestFailure(description: "hubd did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
    }

    func stop() {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        TestLogs.keep(log, as: "hubd")  // for scripts/test's search for secrets
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// curl as client `as` (a certificate name in the test PKI, or nil for none); returns the
    /// HTTP status, the body, the response headers and curl's own exit status.
    /// `port`: another listener than the hub's (nginx in front of it).
    func curl(_ arguments: [String], as client: String? = "box", pki: TestPKI? = nil, output: String? = nil, port: Int? = nil)
        -> (http: Int, body: String, headers: String, exit: Int32, err: String) {
        let path = arguments.last!
        var certificate: [String] = []
        if let client {
            let d = (pki ?? clients).directory
            certificate = ["--cert", "\(d)/\(client).pem", "--key", "\(d)/\(client).key"]
        }
        let headersFile = directory + "/headers-\(UUID().uuidString)"
        let result = runProgram("/usr/bin/curl", ["-sS", "--cacert", hubCA.root, "-D", headersFile, "-o", output ?? "-", "-w", "\n%{http_code}"]
                                + certificate + arguments.dropLast() + ["https://localhost:\(port ?? self.port)" + path])
        var lines = result.out.split(separator: "\n", omittingEmptySubsequences: false)
        let code = Int(lines.popLast() ?? "") ?? 0
        let headers = (try? String(contentsOfFile: headersFile, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: headersFile)
        return (code, lines.joined(separator: "\n"), headers, result.status, result.err)
    }

    func header(_ name: String, in headers: String) -> String? {
        for line in headers.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() { return parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    func handoffFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: handoff)) ?? []).filter { $0.hasSuffix(".edxml") }.sorted()
    }

    func storedPackages() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: data + "/packages")) ?? []).count
    }
}

func sha256Hex(_ path: String) throws -> String {
    SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: path))).map { String(format: "%02x", $0) }.joined()
}

/// What the tests that drive a running hub with curl share (HubdTests, NginxTests).
protocol HubClientTesting: XCTestCase {
    var hub: RunningHub! { get }
}

extension HubClientTesting {
    var files: String { hub.directory }

    /// The real hubd, ready, or a skip naming what it needs.
    func startHub(extraConfiguration: String = "", limits: String = "idle_timeout_seconds = 5", crl: Bool = false) async throws -> RunningHub {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningHub.binary), "needs .build/debug/hubd: run `swift build --product hubd` first")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl (apt-get install curl)")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl")
        let hub = try RunningHub(extraConfiguration: extraConfiguration, limits: limits, crl: crl)
        try await hub.waitUntilReady()
        return hub
    }

    /// A real edXML document package, written by the EdXML module; `payload` is its attachment.
    func makePackage(_ name: String, from: String = RunningHub.commune, to: [String] = [RunningHub.hubCode], number: String = "125",
                     subject: String = "Về việc báo cáo tình hình kinh tế - xã hội năm 2026", payload: [UInt8] = Array("Ủy ban nhân dân".utf8)) async throws -> (path: String, key: String) {
        let attachment = files + "/\(name)-Báo cáo.pdf"
        FileManager.default.createFile(atPath: attachment, contents: Data(payload))
        let code = DocumentCode(number: number, notation: "BC-UBND")
        let key = MessageHeader.composedDocumentId(from: from, date: "2026/11/21", code: code)
        let package = DocumentPackage(
            header: MessageHeader(from: Organization(organId: from, organName: "UBND xã Hòa Tiến"), to: to.map { Organization(organId: $0) },
                                  code: code, promulgationInfo: PromulgationInfo(date: "2026/11/21"), subject: subject, documentId: key),
            attachments: [AttachmentInfo(contentId: UUID().uuidString.lowercased(), name: "Báo cáo.pdf", contentType: "application/pdf")])
        let path = files + "/\(name).edxml"
        try await PackageWriter.write(package, attachmentFiles: [attachment], to: path)
        return (path, key)
    }

    func errorCode(_ body: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let error = object["error"] as? [String: Any] else { return nil }
        return error["code"] as? String
    }

    func verifyReceipt(_ path: String) -> (status: Int32, content: [String: Any]) {
        let out = files + "/receipt-\(UUID().uuidString).json"
        let result = runProgram("/usr/bin/openssl", ["cms", "-verify", "-inform", "DER", "-in", path, "-CAfile", hub.hubCA.root, "-out", out])
        let content = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out)))) as? [String: Any] ?? [:]
        return (result.status, content)
    }

    /// The receipt verifies and names the package's SHA-256; the hand-off folder holds one copy,
    /// the very bytes.
    func assertReceiptAndOneHandedOffCopy(of package: String, receipt: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (status, content) = verifyReceipt(receipt)
        XCTAssertEqual(status, 0, "openssl cms -verify refused the receipt", file: file, line: line)
        XCTAssertEqual(content["sha256"] as? String, try sha256Hex(package), file: file, line: line)
        let copies = hub.handoffFiles()
        XCTAssertEqual(copies.count, 1, file: file, line: line)
        guard copies.count == 1 else { return }
        XCTAssertEqual(try sha256Hex(hub.handoff + "/" + copies[0]), try sha256Hex(package), file: file, line: line)
    }
}

final class HubdTests: XCTestCase, HubClientTesting {
    var hub: RunningHub!

    override func setUp() async throws { hub = try await startHub() }

    override func tearDown() async throws { hub?.stop() }

    func testSubmitTwiceStoresOnceSameReceiptVerifiedByOpenSSLAndADifferentPackageUnderTheSameIdIsRefused() async throws {
        let (package, key) = try await makePackage("first")
        let first = hub.curl(["--data-binary", "@\(package)", "-H", "Content-Type: application/xml", "-X", "POST", "/v1/packages"], output: files + "/r1.p7s")
        XCTAssertEqual(first.http, 201, first.err + ((try? String(contentsOfFile: files + "/r1.p7s", encoding: .utf8)) ?? ""))
        let second = hub.curl(["--data-binary", "@\(package)", "-X", "POST", "/v1/packages"], output: files + "/r2.p7s")
        XCTAssertEqual(second.http, 200)
        XCTAssertEqual(hub.header("Hub-Duplicate", in: second.headers), "true")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: files + "/r1.p7s")), try Data(contentsOf: URL(fileURLWithPath: files + "/r2.p7s")),
                       "a repetition gets the same receipt, byte for byte")

        let (status, content) = verifyReceipt(files + "/r1.p7s")
        XCTAssertEqual(status, 0, "openssl cms -verify refused the receipt")
        XCTAssertEqual(content["key"] as? String, key)
        XCTAssertEqual(content["sha256"] as? String, try sha256Hex(package))
        XCTAssertEqual((content["size"] as? NSNumber)?.int64Value, (try FileManager.default.attributesOfItem(atPath: package)[.size] as? NSNumber)?.int64Value)
        XCTAssertEqual(content["from"] as? String, RunningHub.commune)
        XCTAssertEqual((content["hub"] as? [String: Any])?["name"] as? String, "UBND tỉnh Quảng Trị")
        XCTAssertTrue((content["received_at"] as? String)?.hasSuffix("+07:00") == true)
        // A receipt altered by one byte no longer verifies: the check above can fail.
        var tampered = try Data(contentsOf: URL(fileURLWithPath: files + "/r1.p7s"))
        let index = tampered.range(of: Data("hubd-receipt".utf8))!.lowerBound
        tampered[index] ^= 0x01
        try tampered.write(to: URL(fileURLWithPath: files + "/bad.p7s"))
        XCTAssertNotEqual(verifyReceipt(files + "/bad.p7s").status, 0)

        // One copy in the hand-off folder, the very bytes sent.
        XCTAssertEqual(hub.handoffFiles().count, 1)
        XCTAssertEqual(try sha256Hex(hub.handoff + "/" + hub.handoffFiles()[0]), try sha256Hex(package))

        // Different bytes under the same DocumentId: refused, permanently, nothing stored.
        let (other, otherKey) = try await makePackage("other", subject: "Một nội dung khác")
        XCTAssertEqual(otherKey, key)
        let conflict = hub.curl(["--data-binary", "@\(other)", "-X", "POST", "/v1/packages"])
        XCTAssertEqual(conflict.http, 409)
        XCTAssertEqual(errorCode(conflict.body), "key_conflict")
        XCTAssertTrue(conflict.body.contains("Hub đã nhận một gói khác"), conflict.body)
        XCTAssertEqual(hub.handoffFiles().count, 1)
        XCTAssertEqual(hub.storedPackages(), 1)
    }

    /// Issue 16: a value from outside cannot plant a line in hubd's log. The tus `key`, logged
    /// when an upload is created, carries a newline and a forged "package stored" line; the log
    /// shows it escaped on the upload's own line.
    func testAValueFromOutsideCannotPlantALineInTheLog() async throws {
        let forged = "x\n2026-12-05T00:00:00+0000 notice hubd: key=forged [HubCore] package stored\u{202E}"
        let created = hub.curl(["-X", "POST", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Length: 100",
                                "-H", "Upload-Metadata: key " + Data(forged.utf8).base64EncodedString(), "/v1/uploads"])
        XCTAssertEqual(created.http, 201, created.body)
        var text = ""
        XCTAssertTrue(waitUntil(changesIn: hub.directory) {
            text = (try? String(contentsOfFile: hub.log, encoding: .utf8)) ?? ""
            return text.contains("upload created")
        })
        XCTAssertFalse(text.split(separator: "\n").contains { $0.hasPrefix("2026-12-05T00:00:00") }, text)
        XCTAssertTrue(text.contains("x\\u{A}2026-12-05T00:00:00") && text.contains("\\u{202E}"), text)
    }

    func testAnInterruptedUploadResumedWithCurlSendsOnlyTheRest() async throws {
        var random = SystemRandomNumberGenerator()
        let payload = (0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &random) }
        let (package, key) = try await makePackage("large", payload: payload)
        let total = Int((try FileManager.default.attributesOfItem(atPath: package)[.size] as? NSNumber)!.int64Value)
        let metadata = "key " + Data(key.utf8).base64EncodedString()
        let created = hub.curl(["-X", "POST", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Length: \(total)", "-H", "Upload-Metadata: \(metadata)", "/v1/uploads"])
        XCTAssertEqual(created.http, 201, created.body)
        let location = try XCTUnwrap(hub.header("Location", in: created.headers))
        let options = hub.curl(["-X", "OPTIONS", "/v1/uploads"])
        XCTAssertEqual(options.http, 204)
        XCTAssertEqual(hub.header("Tus-Version", in: options.headers), "1.0.0")
        XCTAssertEqual(hub.header("Tus-Extension", in: options.headers), "creation,expiration")
        // tus expiration: the hub says when a silent upload is deleted, as an HTTP date a week on.
        let expires = try XCTUnwrap(hub.header("Upload-Expires", in: created.headers))
        let httpDate = DateFormatter()
        httpDate.locale = Locale(identifier: "en_US_POSIX")
        httpDate.timeZone = TimeZone(secondsFromGMT: 0)
        httpDate.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let expiresAt = try XCTUnwrap(httpDate.date(from: expires), expires)
        XCTAssertEqual(expiresAt.timeIntervalSinceNow, 7 * 24 * 3600, accuracy: 120, expires)
        // tus rules: the version header is required, the offset must be the hub's, and another
        // box cannot see this upload.
        let unversioned = hub.curl(["-I", location])
        XCTAssertEqual(unversioned.http, 412)
        XCTAssertEqual(hub.header("Tus-Resumable", in: unversioned.headers), "1.0.0")
        let wrongOffset = hub.curl(["-X", "PATCH", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: 5",
                                    "-H", "Content-Type: application/offset+octet-stream", "--data-binary", "abc", location])
        XCTAssertEqual(wrongOffset.http, 409)
        XCTAssertEqual(errorCode(wrongOffset.body), "offset_mismatch")
        XCTAssertEqual(hub.curl(["-I", "-H", "Tus-Resumable: 1.0.0", location], as: "neighbour").http, 404)

        // The first PATCH announces the whole length but the connection breaks after `cut` bytes
        // (curl gives up waiting for the answer).
        let cut = total / 3
        let head = files + "/head.part"
        FileManager.default.createFile(atPath: head, contents: try Data(contentsOf: URL(fileURLWithPath: package)).prefix(cut))
        let broken = hub.curl(["-X", "PATCH", "--max-time", "3", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: 0", "-H", "Content-Length: \(total)",
                               "-H", "Content-Type: application/offset+octet-stream", "--data-binary", "@\(head)", location])
        XCTAssertNotEqual(broken.exit, 0, "the first PATCH should have been cut")
        XCTAssertEqual(hub.handoffFiles().count, 0)

        // Ask where to continue once the hub has noticed the broken connection (and released the upload).
        XCTAssertTrue(hub.waitForLog("upload interrupted"))
        let asked = hub.curl(["-I", "-H", "Tus-Resumable: 1.0.0", location])
        XCTAssertEqual(Int(hub.header("Upload-Offset", in: asked.headers) ?? ""), cut, "the bytes received before the break are kept")
        XCTAssertNotNil(hub.header("Upload-Expires", in: hub.curl(["-I", "-H", "Tus-Resumable: 1.0.0", location]).headers),
                        "an unfinished upload's expiry is given with its offset")

        let rest = files + "/rest.part"
        FileManager.default.createFile(atPath: rest, contents: try Data(contentsOf: URL(fileURLWithPath: package)).suffix(from: cut))
        // No 429 here: the hub logged the interruption after releasing the upload.
        let resumed = runProgram("/usr/bin/curl", ["-sS", "--cacert", hub.hubCA.root, "--cert", "\(files)/box.pem", "--key", "\(files)/box.key",
                                                   "-X", "PATCH", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: \(cut)",
                                                   "-H", "Content-Type: application/offset+octet-stream", "--data-binary", "@\(rest)",
                                                   "-o", "/dev/null", "-w", "%{http_code} %{size_upload}", "https://localhost:\(hub.port)\(location)"])
        let words = resumed.out.split(separator: " ")
        XCTAssertEqual(words.first, "204", resumed.err)
        XCTAssertEqual(Int(words.last ?? ""), total - cut, "curl sent only the rest")

        XCTAssertEqual(hub.curl(["\(location)/receipt"], output: files + "/upload.p7s").http, 200)
        try assertReceiptAndOneHandedOffCopy(of: package, receipt: files + "/upload.p7s")

        // The whole package again by the plain route: the same receipt, still one copy.
        let again = hub.curl(["--data-binary", "@\(package)", "-X", "POST", "/v1/packages"], output: files + "/again.p7s")
        XCTAssertEqual(again.http, 200)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: files + "/again.p7s")), try Data(contentsOf: URL(fileURLWithPath: files + "/upload.p7s")))
        XCTAssertEqual(hub.handoffFiles().count, 1)
    }

    func testTLSRefusalsAndCertificatesForAnotherCommuneStoreNothing() async throws {
        let (package, _) = try await makePackage("refused")
        let submit = ["--data-binary", "@\(package)", "-X", "POST", "/v1/packages"]

        let rogue = try TestPKI(directory: files, name: "rogue-ca", subject: "/CN=Rogue CA")
        _ = try rogue.issue("rogue-box", subject: "/CN=\(RunningHub.commune)", key: .p256, extensions: "extendedKeyUsage=clientAuth\n")
        let wrongCA = hub.curl(submit, as: "rogue-box", pki: rogue)
        XCTAssertNotEqual(wrongCA.exit, 0, "a certificate from another CA must end the handshake")
        XCTAssertEqual(wrongCA.http, 0)

        // Expired yesterday, same CA, same commune.
        for arguments in [["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(files)/expired.key",
                           "-out", "\(files)/expired.csr", "-subj", "/CN=\(RunningHub.commune)"],
                          ["x509", "-req", "-in", "\(files)/expired.csr", "-CA", hub.clients.root, "-CAkey", "\(files)/clients-ca.key",
                           "-CAcreateserial", "-days", "-1", "-out", "\(files)/expired.pem"]] {
            XCTAssertEqual(runProgram("/usr/bin/openssl", arguments).status, 0)
        }
        let expired = hub.curl(submit, as: "expired")
        XCTAssertNotEqual(expired.exit, 0, "an expired certificate must end the handshake")
        XCTAssertEqual(expired.http, 0)

        let anonymous = hub.curl(submit, as: nil)
        XCTAssertEqual(anonymous.http, 0, "no client certificate: no HTTP answer at all")
        XCTAssertNotEqual(anonymous.exit, 0)

        // A valid certificate of another served commune cannot send as this one.
        let impostor = hub.curl(submit, as: "neighbour")
        XCTAssertEqual(impostor.http, 403)
        XCTAssertEqual(errorCode(impostor.body), "sender_mismatch")
        XCTAssertTrue(impostor.body.contains("chứng thư số là của \(RunningHub.neighbour)"), impostor.body)

        // A valid certificate whose code the hub does not serve gets nothing, not even the directory.
        let stranger = hub.curl(["/v1/directory"], as: "stranger")
        XCTAssertEqual(stranger.http, 403)
        XCTAssertEqual(errorCode(stranger.body), "unknown_client")

        XCTAssertEqual(hub.handoffFiles(), [])
        XCTAssertEqual(hub.storedPackages(), 0)
        // The hub's technician sees each refused handshake and why.
        let log = try String(contentsOfFile: hub.log, encoding: .utf8)
        let refusals = log.components(separatedBy: "TLS handshake refused").count - 1
        XCTAssertGreaterThanOrEqual(refusals, 3, log)
        XCTAssertTrue(log.contains("CERTIFICATE_VERIFY_FAILED") || log.contains("certificate verify failed"), log)
        // The same package from the right box is accepted: the refusals were about the certificates.
        XCTAssertEqual(hub.curl(submit).http, 201)
    }

    func testOfficePostsDownTheBoxLongPollsFetchesAcksAndSendsStatus01Up() async throws {
        let directory = hub.curl(["/v1/directory"])
        XCTAssertEqual(directory.http, 200)
        XCTAssertTrue(directory.body.contains("UBND xã Hòa Tiến"), directory.body)

        // An empty inbox: the long poll waits its time and answers an empty list.
        let started = Date()
        let empty = hub.curl(["/v1/inbox?wait=1"])
        XCTAssertEqual(empty.http, 200)
        XCTAssertTrue(empty.body.contains(#""items":[]"#), empty.body)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.9)

        // A box waiting while the office posts: it is woken by the arrival, not by its time limit.
        let (down, key) = try await makePackage("down", from: RunningHub.hubCode, to: [RunningHub.commune], number: "9")
        let hub = self.hub!
        let poll = Task.detached { () -> (Date, String) in
            let answer = hub.curl(["/v1/inbox?wait=30"])
            return (Date(), answer.body)
        }
        // Posted once the hub says the poll is waiting, so it is the arrival that answers it.
        XCTAssertTrue(hub.waitForLog("long poll waiting", count: 2), "the empty poll above was the first")
        let posted = hub.curl(["--data-binary", "@\(down)", "-X", "POST", "/office/v1/packages"], as: "office")
        let postedAt = Date()
        XCTAssertEqual(posted.http, 201, posted.body)
        let deliveries = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(posted.body.utf8)) as? [String: Any])?["deliveries"] as? [[String: Any]])
        XCTAssertEqual(deliveries.count, 1)
        XCTAssertEqual(deliveries.first?["commune"] as? String, RunningHub.commune)
        XCTAssertEqual(deliveries.first?["state"] as? String, "queued")
        let deliveryID = try XCTUnwrap(deliveries.first?["id"] as? Int)
        let (answeredAt, inbox) = await poll.value
        XCTAssertLessThan(answeredAt.timeIntervalSince(postedAt), 5, "the long poll answers when the document arrives")
        let items = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(inbox.utf8)) as? [String: Any])?["items"] as? [[String: Any]])
        XCTAssertEqual(items.count, 1, inbox)
        XCTAssertEqual(items.first?["key"] as? String, key)
        let item = try XCTUnwrap(items.first?["id"] as? Int)

        // Another commune sees nothing of it; a box cannot use the office API.
        XCTAssertTrue(hub.curl(["/v1/inbox"], as: "neighbour").body.contains(#""items":[]"#))
        XCTAssertEqual(hub.curl(["/v1/inbox/\(item)"], as: "neighbour").http, 404)
        XCTAssertEqual(errorCode(hub.curl(["/office/v1/received"]).body), "forbidden")

        let fetched = hub.curl(["/v1/inbox/\(item)"], output: files + "/fetched.edxml")
        XCTAssertEqual(fetched.http, 200)
        XCTAssertEqual(try sha256Hex(files + "/fetched.edxml"), try sha256Hex(down))
        XCTAssertEqual(hub.header("Hub-Package-SHA256", in: fetched.headers), try sha256Hex(down))
        // Not delivered until acknowledged.
        XCTAssertTrue(hub.curl(["/office/v1/deliveries/\(deliveryID)"], as: "office").body.contains(#""state":"queued""#))
        XCTAssertEqual(hub.curl(["-X", "POST", "/v1/inbox/\(item)/ack"]).http, 204)
        XCTAssertEqual(hub.curl(["-X", "POST", "/v1/inbox/\(item)/ack"]).http, 204, "a repeated ack is harmless")
        let delivery = hub.curl(["/office/v1/deliveries/\(deliveryID)"], as: "office")
        XCTAssertTrue(delivery.body.contains(#""state":"delivered""#), delivery.body)
        XCTAssertTrue(hub.curl(["/v1/inbox"]).body.contains(#""items":[]"#))

        // The box's 01 "đã đến" goes up, reaches the office's hand-off.
        let read = try await PackageReader.read(path: files + "/fetched.edxml")
        guard case .document(let document) = read.package else { return XCTFail("not a document") }
        let status = StatusPackage(
            from: Organization(organId: RunningHub.commune, organName: "UBND xã Hòa Tiến"),
            responseFor: ResponseFor(organId: document.header.from.organId, code: document.header.code.description,
                                     promulgationDate: document.header.promulgationInfo.date, documentId: document.header.documentId),
            statusCode: .arrived, description: "Văn bản đã đến UBND xã Hòa Tiến", timestamp: EdXMLTimestamp(Date()).description)
        let statusPath = files + "/status-01.edxml"
        try await PackageWriter.write(status, to: statusPath)
        let sent = hub.curl(["--data-binary", "@\(statusPath)", "-X", "POST", "/v1/packages"], output: files + "/status.p7s")
        XCTAssertEqual(sent.http, 201)
        XCTAssertEqual(verifyReceipt(files + "/status.p7s").status, 0)
        let received = hub.curl(["/office/v1/received?wait=5"], as: "office")
        let handedOff = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(received.body.utf8)) as? [String: Any])?["items"] as? [[String: Any]])
        XCTAssertEqual(handedOff.count, 1, received.body)
        XCTAssertEqual(handedOff.first?["kind"] as? String, "status")
        XCTAssertEqual(handedOff.first?["key"] as? String, "status:\(RunningHub.commune)|\(key)|01|\(status.timestamp)")
        let handoffID = try XCTUnwrap(handedOff.first?["id"] as? Int)
        let statusFetched = hub.curl(["/office/v1/received/\(handoffID)"], as: "office", output: files + "/status-fetched.edxml")
        XCTAssertEqual(statusFetched.http, 200)
        let statusRead = try await PackageReader.read(path: files + "/status-fetched.edxml")
        guard case .status(let back) = statusRead.package else { return XCTFail("not a status") }
        XCTAssertEqual(back.statusCode, .arrived)
        XCTAssertEqual(back.description, "Văn bản đã đến UBND xã Hòa Tiến")
        XCTAssertEqual(hub.curl(["-X", "POST", "/office/v1/received/\(handoffID)/ack"], as: "office").http, 204)
        XCTAssertTrue(hub.curl(["/office/v1/received"], as: "office").body.contains(#""items":[]"#))
    }

    func testThreeBoxesAtOnceEachStoredOnce() async throws {
        var packages: [(client: String, path: String)] = []
        for (client, code) in [("box", RunningHub.commune), ("neighbour", RunningHub.neighbour), ("third", RunningHub.third)] {
            let (path, _) = try await makePackage("from-\(client)", from: code, payload: Array(repeating: UInt8(ascii: "a"), count: 2 << 20))
            packages.append((client, path))
        }
        let hub = self.hub!
        let answers = await withTaskGroup(of: Int.self) { group in
            for (client, path) in packages {
                group.addTask { hub.curl(["--data-binary", "@\(path)", "-X", "POST", "/v1/packages"], as: client, output: "/dev/null").http }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(answers, [201, 201, 201])
        XCTAssertEqual(hub.handoffFiles().count, 3)
        var digests = Set<String>()
        for name in hub.handoffFiles() { digests.insert(try sha256Hex(hub.handoff + "/" + name)) }
        XCTAssertEqual(digests, Set(try packages.map { try sha256Hex($0.path) }))
    }

    func testHubKilledDuringAnUploadLosesNothingAndStoresOnce() async throws {
        let (package, _) = try await makePackage("restart", payload: (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7919) })
        let bytes = try Data(contentsOf: URL(fileURLWithPath: package))
        let created = hub.curl(["-X", "POST", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Length: \(bytes.count)", "/v1/uploads"])
        let location = try XCTUnwrap(hub.header("Location", in: created.headers))
        let half = files + "/half.part"
        FileManager.default.createFile(atPath: half, contents: bytes.prefix(bytes.count / 2))
        let first = hub.curl(["-X", "PATCH", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: 0",
                              "-H", "Content-Type: application/offset+octet-stream", "--data-binary", "@\(half)", location])
        XCTAssertEqual(first.http, 204)
        XCTAssertEqual(hub.header("Upload-Offset", in: first.headers), "\(bytes.count / 2)")

        hub.kill9()
        try hub.start()
        try await hub.waitUntilReady()
        let asked = hub.curl(["-I", "-H", "Tus-Resumable: 1.0.0", location])
        let offset = try XCTUnwrap(Int(hub.header("Upload-Offset", in: asked.headers) ?? ""), asked.headers)
        XCTAssertEqual(offset, bytes.count / 2, "what was acknowledged before the kill is still there")
        let rest = files + "/rest2.part"
        FileManager.default.createFile(atPath: rest, contents: bytes.suffix(from: offset))
        let last = hub.curl(["-X", "PATCH", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: \(offset)",
                             "-H", "Content-Type: application/offset+octet-stream", "--data-binary", "@\(rest)", location])
        XCTAssertEqual(last.http, 204, last.body)
        XCTAssertEqual(hub.curl(["\(location)/receipt"], output: files + "/restart.p7s").http, 200)
        XCTAssertEqual(verifyReceipt(files + "/restart.p7s").status, 0)

        // Killed again, restarted: the package is still there once, and a resubmission finds it.
        hub.kill9()
        try hub.start()
        try await hub.waitUntilReady()
        let again = hub.curl(["--data-binary", "@\(package)", "-X", "POST", "/v1/packages"], output: files + "/restart2.p7s")
        XCTAssertEqual(again.http, 200)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: files + "/restart.p7s")), try Data(contentsOf: URL(fileURLWithPath: files + "/restart2.p7s")))
        XCTAssertEqual(hub.handoffFiles().count, 1)
        XCTAssertEqual(try sha256Hex(hub.handoff + "/" + hub.handoffFiles()[0]), try sha256Hex(package))
    }

    /// Memory does not follow the package's size: an 80 MB package on the plain route, streamed by
    /// curl from disk (the tus route writes through the same `AppendingFile`).
    func testALargePackageDoesNotGrowTheHubsMemory() async throws {
        var random = SystemRandomNumberGenerator()
        var payload = [UInt8](repeating: 0, count: 60 << 20)
        for index in stride(from: 0, to: payload.count, by: 8) {
            withUnsafeBytes(of: random.next() as UInt64) { payload.replaceSubrange(index..<index + 8, with: $0) }
        }
        let (package, _) = try await makePackage("big", payload: payload)
        payload = []
        let size = Int((try FileManager.default.attributesOfItem(atPath: package)[.size] as? NSNumber)!.int64Value)
        XCTAssertGreaterThan(size, 80 << 20)
        XCTAssertEqual(hub.curl(["/v1/directory"]).http, 200)
        let before = hub.peakMemory()
        let sent = hub.curl(["-T", package, "-X", "POST", "-H", "Content-Type: application/xml", "/v1/packages"], output: files + "/big.p7s")
        XCTAssertEqual(sent.http, 201, sent.err)
        XCTAssertEqual(verifyReceipt(files + "/big.p7s").status, 0)
        let after = hub.peakMemory()
        print("hubd peak RSS: \(before >> 20) MB before, \(after >> 20) MB after an \(size >> 20) MB package")
        XCTAssertGreaterThan(before, 0)
        XCTAssertLessThan(after - before, 40 << 20, "hubd's peak memory grew by \((after - before) >> 20) MB for a \(size >> 20) MB package")
    }

    /// A box whose link goes dark in the middle of a PATCH (the connection stays open, nothing
    /// arrives): the hub closes it after its idle time, keeps what arrived, and the upload
    /// continues on a new connection instead of being held by the dead one.
    func testASilentConnectionMidUploadIsClosedAndTheUploadContinues() async throws {
        let (package, _) = try await makePackage("silent", payload: Array(repeating: UInt8(ascii: "z"), count: 1 << 20))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: package))
        let created = hub.curl(["-X", "POST", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Length: \(bytes.count)", "/v1/uploads"])
        let location = try XCTUnwrap(hub.header("Location", in: created.headers))
        let cut = bytes.count / 2
        let head = files + "/silent-head.part"
        FileManager.default.createFile(atPath: head, contents: bytes.prefix(cut))
        let started = Date()
        // curl would wait 60 s for an answer; the hub's idle time (5 s here) ends it first.
        let stalled = hub.curl(["-X", "PATCH", "--max-time", "60", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: 0",
                                "-H", "Content-Length: \(bytes.count)", "-H", "Content-Type: application/offset+octet-stream",
                                "--data-binary", "@\(head)", location])
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertNotEqual(stalled.exit, 0)
        XCTAssertLessThan(elapsed, 30, "the hub closed the silent connection")
        let asked = hub.curl(["-I", "-H", "Tus-Resumable: 1.0.0", location])
        XCTAssertEqual(hub.header("Upload-Offset", in: asked.headers), "\(cut)")
        let rest = files + "/silent-rest.part"
        FileManager.default.createFile(atPath: rest, contents: bytes.suffix(from: cut))
        let last = hub.curl(["-X", "PATCH", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: \(cut)",
                             "-H", "Content-Type: application/offset+octet-stream", "--data-binary", "@\(rest)", location])
        XCTAssertEqual(last.http, 204, last.body)
        XCTAssertEqual(hub.handoffFiles().count, 1)
        XCTAssertEqual(try sha256Hex(hub.handoff + "/" + hub.handoffFiles()[0]), try sha256Hex(package))
    }

    /// TLS 1.3 by default, 1.2 accepted, 1.1 refused by the hub even when the client allows it
    /// (openssl s_client as the independent client).
    func testTLSVersions() throws {
        func handshake(_ options: String) -> String {
            let d = hub.directory
            let command = "echo | timeout 10 /usr/bin/openssl s_client -connect 127.0.0.1:\(hub.port) -servername localhost -CAfile \(hub.hubCA.root) "
                + "-cert \(d)/box.pem -key \(d)/box.key -brief \(options) 2>&1"
            return runProgram("/bin/sh", ["-c", command]).out
        }
        XCTAssertTrue(handshake("").contains("Protocol version: TLSv1.3"))
        XCTAssertTrue(handshake("-tls1_2").contains("Protocol version: TLSv1.2"))
        let old = handshake("-tls1_1 -cipher DEFAULT@SECLEVEL=0")
        XCTAssertFalse(old.contains("CONNECTION ESTABLISHED"), old)
        XCTAssertTrue(old.contains("protocol version"), old)
        // Issue 16: TLS 1.2 only with ECDHE and an AEAD cipher. CBC with a SHA-1 MAC, and suites
        // without forward secrecy (static RSA key exchange), are refused even when the client
        // offers nothing else; an ECDHE-GCM suite is taken.
        XCTAssertTrue(handshake("-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256").contains("CONNECTION ESTABLISHED"))
        for weak in ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "AES128-SHA", "AES256-GCM-SHA384", "AES128-GCM-SHA256"] {
            let refused = handshake("-tls1_2 -cipher \(weak)")
            XCTAssertFalse(refused.contains("CONNECTION ESTABLISHED"), "\(weak): \(refused)")
        }
    }
}

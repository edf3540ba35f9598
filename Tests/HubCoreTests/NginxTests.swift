import Foundation
@testable import HubCore
import TestSupport
import XCTest

/// Debian's nginx, started from `packaging/nginx-hubd.conf` (the server block docs/hubd.md
/// gives), terminating the boxes' mTLS in front of a real hubd. Everything the box does goes
/// through nginx with curl; receipts are judged by `openssl cms -verify`.
final class RunningNginx: @unchecked Sendable {
    static let binary = "/usr/sbin/nginx"
    static var template: String { repositoryRoot.appendingPathComponent("packaging/nginx-hubd.conf").path }
    /// The CN of nginx's certificate towards hubd, listed in hubd's `proxy.codes`.
    static let proxyCode = "proxy.hub.quangtri.gov.vn"
    static let hubConfiguration = "[proxy]\ncodes = [\"\(proxyCode)\"]\n"

    let directory: String
    let port: Int
    /// The enrolment block's port (the second server block).
    let enrolmentPort: Int
    let process = Process()
    let exited = DispatchSemaphore(value: 0)
    var errorLog: String { directory + "/error.log" }

    /// `crl`: with the documented `ssl_crl` line on, naming the hub's `crlFile`.
    /// `enrolmentUpstream`: hubd's enrolment listener, if it has one.
    init(in front: RunningHub, crl: Bool = false, enrolmentUpstream: Int? = nil) throws {
        directory = front.directory + "/nginx"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        port = freeLoopbackPort()
        enrolmentPort = freeLoopbackPort()
        let d = front.directory
        // nginx's certificate towards the boxes: the hub's own, so the boxes' trust stays as it was.
        try FileManager.default.copyItem(atPath: d + "/hub.pem", toPath: d + "/front.pem")
        try FileManager.default.copyItem(atPath: d + "/hub.key", toPath: d + "/front.key")
        _ = try front.clients.issue("proxy", subject: "/CN=\(Self.proxyCode)/O=UBND tỉnh Quảng Trị", key: .p256,
                                    extensions: "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
        // The documented block, adapted only where a deployment adapts it: addresses and files.
        var server = try String(contentsOfFile: Self.template, encoding: .utf8)
        for (from, to) in [("server 127.0.0.1:8443;", "server 127.0.0.1:\(front.port);"), ("listen 443 ssl;", "listen 127.0.0.1:\(port) ssl;"),
                           ("server 127.0.0.1:8445;", "server 127.0.0.1:\(enrolmentUpstream ?? 9);"),
                           ("listen 8444 ssl;", "listen 127.0.0.1:\(enrolmentPort) ssl;"),
                           ("/etc/nginx/hubd/", d + "/")] + (crl ? [("# ssl_crl ", "ssl_crl ")] : []) {
            guard server.contains(from) else { throw HubTestFailure(description: "packaging/nginx-hubd.conf no longer has \"\(from)\"") }
            server = server.replacingOccurrences(of: from, with: to)
        }
        try server.write(toFile: directory + "/hubd.conf", atomically: true, encoding: .utf8)
        // Everything nginx writes stays in the temporary directory. As root (CI), `user root`
        // lets the worker read the temporary directory; otherwise the directive would be ignored
        // with a warning.
        let main = """
            \(geteuid() == 0 ? "user root;" : "")
            worker_processes 1;
            pid \(directory)/nginx.pid;
            error_log \(errorLog) info;
            events { worker_connections 64; }
            http {
                access_log \(directory)/access.log;
                client_body_temp_path \(directory)/body;
                proxy_temp_path \(directory)/proxy;
                fastcgi_temp_path \(directory)/fastcgi;
                uwsgi_temp_path \(directory)/uwsgi;
                scgi_temp_path \(directory)/scgi;
                include \(directory)/hubd.conf;
            }
            """
        try main.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["-c", directory + "/nginx.conf", "-p", directory + "/", "-e", errorLog, "-g", "daemon off;"]
        _ = FileManager.default.createFile(atPath: directory + "/stderr.log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: directory + "/stderr.log")
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
    }

    /// nginx's master logs "start worker processes" once its listening socket is open; the
    /// directory through nginx then answers (the worker takes the connection from the backlog).
    func waitUntilReady(_ hub: RunningHub) async throws {
        let started = { [self] in occurrences(of: "start worker processes", inFile: errorLog) > 0 }
        if waitUntil(changesIn: directory, { started() || !process.isRunning }), started(),
           hub.curl(["/v1/directory"], port: port).http == 200 {
            return
        }
        throw HubTestFailure(description: "nginx did not start: \((try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? "")"
                             + ((try? String(contentsOfFile: directory + "/stderr.log", encoding: .utf8)) ?? ""))
    }

    /// SIGTERM: nginx's master stops its worker and exits; SIGKILL only if it does not.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        if exited.wait(timeout: .now() + .seconds(5)) == .timedOut { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        for log in ["error", "stderr"] { TestLogs.keep(directory + "/\(log).log", as: "nginx-\(log)") }  // for scripts/test's search for secrets
    }
}

final class NginxTests: XCTestCase, HubClientTesting {
    var hub: RunningHub!
    var nginx: RunningNginx!

    override func setUp() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningNginx.binary), "needs nginx (scripts/install-deps)")
        hub = try await startHub(extraConfiguration: RunningNginx.hubConfiguration)
        nginx = try RunningNginx(in: hub)
        try await nginx.waitUntilReady(hub)
    }

    override func tearDown() async throws {
        nginx?.stop()
        hub?.stop()
    }

    /// curl as a box, to nginx.
    func viaNginx(_ arguments: [String], as client: String? = "box", pki: TestPKI? = nil, output: String? = nil)
        -> (http: Int, body: String, headers: String, exit: Int32, err: String) {
        hub.curl(arguments, as: client, pki: pki, output: output, port: nginx.port)
    }

    /// A certificate as nginx's `$ssl_client_escaped_cert` gives it.
    func escapedCertificate(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8).addingPercentEncoding(withAllowedCharacters: HubServer.unreserved)!
    }

    func testAPackageSubmittedThroughNginxIsStoredAsTheBoxsAndItsReceiptVerifies() async throws {
        let (package, key) = try await makePackage("through-nginx")
        let sent = viaNginx(["--data-binary", "@\(package)", "-H", "Content-Type: application/xml", "-X", "POST", "/v1/packages"],
                            output: files + "/nginx.p7s")
        XCTAssertEqual(sent.http, 201, sent.err + ((try? String(contentsOfFile: files + "/nginx.p7s", encoding: .utf8)) ?? ""))
        try assertReceiptAndOneHandedOffCopy(of: package, receipt: files + "/nginx.p7s")
        let content = verifyReceipt(files + "/nginx.p7s").content
        XCTAssertEqual(content["key"] as? String, key)
        XCTAssertEqual(content["from"] as? String, RunningHub.commune)
        // hubd recorded the box, not the proxy, as the sender.
        let log = try String(contentsOfFile: hub.log, encoding: .utf8)
        XCTAssertTrue(log.contains("by=\(RunningHub.commune)"), log)
        XCTAssertFalse(log.contains("by=\(RunningNginx.proxyCode)"), log)
        // The same bytes again: the same receipt, byte for byte, through nginx too.
        let again = viaNginx(["--data-binary", "@\(package)", "-X", "POST", "/v1/packages"], output: files + "/nginx2.p7s")
        XCTAssertEqual(again.http, 200)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: files + "/nginx.p7s")), try Data(contentsOf: URL(fileURLWithPath: files + "/nginx2.p7s")))
        // The document system's certificate through nginx is the office, and its long poll
        // comes back through nginx.
        let received = viaNginx(["/office/v1/received?wait=1"], as: "office")
        XCTAssertEqual(received.http, 200, received.body)
        XCTAssertTrue(received.body.contains(key), received.body)
        XCTAssertEqual(errorCode(viaNginx(["/office/v1/received"]).body), "forbidden", "the box stays a box behind nginx")
        let started = Date()
        XCTAssertTrue(viaNginx(["/v1/inbox?wait=2"]).body.contains(#""items":[]"#))
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 1.9)
    }

    /// nginx streams the body on (`proxy_request_buffering off`): the bytes of a PATCH cut halfway
    /// are on the hub — with buffering, nginx would have dropped the incomplete body and the
    /// offset would be 0 — and the upload resumes through nginx with only the rest.
    func testAnUploadCutThroughNginxResumesThroughNginx() async throws {
        var random = SystemRandomNumberGenerator()
        let payload = (0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &random) }
        let (package, key) = try await makePackage("nginx-large", payload: payload)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: package))
        let metadata = "key " + Data(key.utf8).base64EncodedString()
        let created = viaNginx(["-X", "POST", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Length: \(bytes.count)", "-H", "Upload-Metadata: \(metadata)",
                                "/v1/uploads"])
        XCTAssertEqual(created.http, 201, created.body)
        let location = try XCTUnwrap(hub.header("Location", in: created.headers))

        let cut = bytes.count / 3
        let head = files + "/nginx-head.part"
        _ = FileManager.default.createFile(atPath: head, contents: bytes.prefix(cut))
        let broken = viaNginx(["-X", "PATCH", "--max-time", "3", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: 0", "-H", "Content-Length: \(bytes.count)",
                               "-H", "Content-Type: application/offset+octet-stream", "--data-binary", "@\(head)", location])
        XCTAssertNotEqual(broken.exit, 0, "the first PATCH should have been cut")
        XCTAssertEqual(hub.handoffFiles().count, 0)

        // Asked once hubd has seen nginx's connection end (and released the upload).
        XCTAssertTrue(hub.waitForLog("upload interrupted"))
        let asked = viaNginx(["-I", "-H", "Tus-Resumable: 1.0.0", location])
        XCTAssertEqual(Int(hub.header("Upload-Offset", in: asked.headers) ?? ""), cut, "the bytes nginx forwarded before the break are kept")

        let rest = files + "/nginx-rest.part"
        _ = FileManager.default.createFile(atPath: rest, contents: bytes.suffix(from: cut))
        // No 429 here: hubd logged the interruption after releasing the upload.
        let last = viaNginx(["-X", "PATCH", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: \(cut)",
                             "-H", "Content-Type: application/offset+octet-stream", "--data-binary", "@\(rest)", location])
        XCTAssertEqual(last.http, 204, last.body + last.err)
        XCTAssertEqual(hub.header("Upload-Offset", in: last.headers), "\(bytes.count)", "only the rest was sent, and it completed the upload")

        XCTAssertEqual(viaNginx(["\(location)/receipt"], output: files + "/nginx-upload.p7s").http, 200)
        try assertReceiptAndOneHandedOffCopy(of: package, receipt: files + "/nginx-upload.p7s")
        // nginx kept no copy of the body on its disk.
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: nginx.directory + "/body")) ?? [], [])
    }

    func testNginxRefusesForeignCertificatesAndHubdRefusesAnotherCommunesEvenWithAForgedHeader() async throws {
        let (package, _) = try await makePackage("nginx-refused")
        let submit = ["--data-binary", "@\(package)", "-X", "POST", "/v1/packages"]

        // Another CA, same commune code: nginx answers 400 itself, hubd never sees a request.
        let rogue = try TestPKI(directory: files, name: "rogue-ca", subject: "/CN=Rogue CA")
        _ = try rogue.issue("rogue-box", subject: "/CN=\(RunningHub.commune)", key: .p256, extensions: "extendedKeyUsage=clientAuth\n")
        let wrongCA = viaNginx(submit, as: "rogue-box", pki: rogue)
        XCTAssertEqual(wrongCA.http, 400, wrongCA.err)
        XCTAssertTrue(wrongCA.body.contains("SSL certificate error"), wrongCA.body)
        let anonymous = viaNginx(submit, as: nil)
        XCTAssertEqual(anonymous.http, 400)
        XCTAssertTrue(anonymous.body.contains("No required SSL certificate"), anonymous.body)
        let nginxLog = try String(contentsOfFile: nginx.errorLog, encoding: .utf8)
        XCTAssertTrue(nginxLog.contains("client SSL certificate verify error"), nginxLog)
        // TLS 1.2 at least towards the boxes (openssl s_client as the independent client).
        func handshake(_ options: String) -> String {
            runProgram("/bin/sh", ["-c", "echo | timeout 10 /usr/bin/openssl s_client -connect 127.0.0.1:\(nginx.port) -servername localhost "
                                   + "-CAfile \(hub.hubCA.root) -cert \(files)/box.pem -key \(files)/box.key -brief \(options) 2>&1"]).out
        }
        XCTAssertTrue(handshake("-tls1_2").contains("Protocol version: TLSv1.2"))
        let old = handshake("-tls1_1 -cipher DEFAULT@SECLEVEL=0")
        XCTAssertFalse(old.contains("CONNECTION ESTABLISHED"), old)

        // A valid certificate of another commune, which also sends a header claiming to be the
        // box: nginx replaces the header with the neighbour's own certificate, and hubd refuses
        // the package as not the neighbour's.
        let impostor = viaNginx(["-H", "Hub-Client-Certificate: \(try escapedCertificate(files + "/box.pem"))"] + submit, as: "neighbour")
        XCTAssertEqual(impostor.http, 403, impostor.body)
        XCTAssertEqual(errorCode(impostor.body), "sender_mismatch")
        XCTAssertTrue(impostor.body.contains("chứng thư số là của \(RunningHub.neighbour)"), impostor.body)
        // A valid certificate of a code hubd does not serve: refused by hubd with the stranger's
        // own identity, not the proxy's.
        let stranger = viaNginx(["/v1/directory"], as: "stranger")
        XCTAssertEqual(stranger.http, 403)
        XCTAssertEqual(errorCode(stranger.body), "unknown_client")
        XCTAssertTrue(stranger.body.contains("000.00.20.H99"), stranger.body)

        XCTAssertEqual(hub.storedPackages(), 0)
        XCTAssertEqual(hub.handoffFiles(), [])
        XCTAssertEqual(viaNginx(submit).http, 201, "the refusals were about the certificates")
    }

    /// hubd takes Hub-Client-Certificate only from a connection whose own certificate is a
    /// listed proxy, and even then verifies the certificate itself.
    func testAForwardedCertificateIsHonouredOnlyFromTheProxyAndOnlyWhenHubdVerifiesIt() async throws {
        let (package, _) = try await makePackage("direct")
        let submit = ["--data-binary", "@\(package)", "-X", "POST", "/v1/packages"]
        let boxCertificate = try escapedCertificate(files + "/box.pem")

        // Straight to hubd, not through nginx: a neighbour's box claiming to forward the box.
        let forged = hub.curl(["-H", "Hub-Client-Certificate: \(boxCertificate)"] + submit, as: "neighbour")
        XCTAssertEqual(forged.http, 403, forged.body + forged.err)
        XCTAssertEqual(errorCode(forged.body), "forwarded_identity")
        XCTAssertTrue(forged.body.contains("proxy.codes"), forged.body)
        // Even the box itself may not use the header: only proxies forward.
        XCTAssertEqual(errorCode(hub.curl(["-H", "Hub-Client-Certificate: \(boxCertificate)"] + submit).body), "forwarded_identity")

        // The proxy's certificate, but nothing forwarded, or something hubd cannot verify.
        XCTAssertEqual(errorCode(hub.curl(["/v1/directory"], as: "proxy").body), "forwarded_identity")
        let rogue = try TestPKI(directory: files, name: "rogue-ca", subject: "/CN=Rogue CA")
        _ = try rogue.issue("rogue-box", subject: "/CN=\(RunningHub.commune)", key: .p256, extensions: "extendedKeyUsage=clientAuth\n")
        let unverified = hub.curl(["-H", "Hub-Client-Certificate: \(try escapedCertificate(files + "/rogue-box.pem"))"] + submit, as: "proxy")
        XCTAssertEqual(unverified.http, 403)
        XCTAssertEqual(errorCode(unverified.body), "forwarded_identity")
        XCTAssertTrue(unverified.body.contains("client CA"), unverified.body)
        let serverOnly = try hub.clients.issue("server-only", subject: "/CN=\(RunningHub.commune)", key: .p256, extensions: "extendedKeyUsage=serverAuth\n")
        let wrongPurpose = hub.curl(["-H", "Hub-Client-Certificate: \(try escapedCertificate(serverOnly.chain))"] + submit, as: "proxy")
        XCTAssertEqual(errorCode(wrongPurpose.body), "forwarded_identity")
        XCTAssertEqual(errorCode(hub.curl(["-H", "Hub-Client-Certificate: not%20a%20certificate", "/v1/directory"], as: "proxy").body), "forwarded_identity")
        XCTAssertEqual(hub.storedPackages(), 0)
        // The hub's technician sees each refusal and which connection sent it.
        let log = try String(contentsOfFile: hub.log, encoding: .utf8)
        XCTAssertGreaterThanOrEqual(log.components(separatedBy: "forwarded identity refused").count - 1, 6, log)
        XCTAssertTrue(log.contains("connection=\(RunningHub.neighbour)"), log)

        // The proxy forwarding a certificate of the clients' CA: the box it names is the sender.
        let honoured = hub.curl(["-H", "Hub-Client-Certificate: \(boxCertificate)"] + submit, as: "proxy")
        XCTAssertEqual(honoured.http, 201, honoured.body)
        XCTAssertEqual(hub.storedPackages(), 1)
    }
}

import DocumentModel
import Foundation
import TestSupport
import XCTest
@testable import GatewayCore
import TimeJSON

/// `gatewayd doctor` (the built binary) on a box against a real hubd on loopback, healthy and
/// with each fault of issue 20's acceptance 3 made real. pcscd is always a private one (its own
/// socket through `PCSCLITE_CSOCK_NAME`), or a socket nobody listens on: the machine's shared
/// pcscd and its virtual readers are never asked.
final class DoctorTests: XCTestCase {
    static let province = "000.00.00.H41", commune = "000.00.20.H13"
    var directory = ""
    var processes: [Process] = []

    override func setUp() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.gatewayd), "needs .build/debug/gatewayd: run `swift build` first")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Hubd.binary), "needs .build/debug/hubd: run `swift build` first")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("doctor-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        for process in processes where process.isRunning { stop(process) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// SIGKILL: the test runner blocks signals and its children inherit the mask, so pcscd and
    /// python would never see a SIGTERM (hubd unblocks its own).
    func stop(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    static var gatewayd: String { repositoryRoot.appendingPathComponent(".build/debug/gatewayd").path }

    /// The box: hubd for its province, a configuration (console off: ConsoleTests judge its
    /// certificates) with `data_dir` and `extra`, and its store made.
    func startBox(days: Int = 90, extra: String = "") async throws -> (config: String, hub: Process, port: Int, pki: TestPKI, store: StoreFixture) {
        let pki = try TestPKI(directory: directory)
        let (hub, port, _) = try await Hubd.startProvince(pki: pki, directory: directory, province: Self.province, commune: Self.commune)
        processes.append(hub)
        // The store made here, by this process (the tests that run the daemon let it make its own).
        let store = try StoreFixture(directory: directory + "/box")
        let text = "data_dir = \"\(directory)/box/data\"\n"
            + (try Hubd.boxConfiguration(pki: pki, commune: Self.commune, port: port, extra: "[console]\nenabled = false\n" + extra, days: days))
        let config = directory + "/gatewayd.toml"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        return (config, hub, port, pki, store)
    }

    /// pcscd on its own socket: a mount namespace where /run/pcscd is `directory/pcscd`, no
    /// reader configured (an empty reader.conf.d, so the virtual readers' driver is not loaded a
    /// second time). Returns it once its socket answers.
    func startPrivatePcscd() async throws -> (process: Process, socket: String) {
        try XCTSkipUnless(getuid() == 0, "a private pcscd needs root (mount --bind in a mount namespace)")
        let run = directory + "/pcscd", conf = directory + "/pcscd/reader.conf.d"
        try FileManager.default.createDirectory(atPath: conf, withIntermediateDirectories: true)
        let pcscd = Process()
        pcscd.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        pcscd.arguments = ["-m", "sh", "-c", "mount --bind \"$0\" /run/pcscd && exec pcscd -f -c \"$1\"", run, conf]
        pcscd.standardOutput = FileHandle.nullDevice
        pcscd.standardError = FileHandle.nullDevice
        try pcscd.run()
        processes.append(pcscd)
        let socket = run + "/pcscd.comm"
        XCTAssertTrue(waitUntil(changesIn: run) { FileManager.default.fileExists(atPath: socket) || !pcscd.isRunning }, "private pcscd did not start")
        try XCTSkipUnless(pcscd.isRunning, "pcscd could not start in its own mount namespace")
        return (pcscd, socket)
    }

    /// `gatewayd doctor --json`, its exit status and report.
    func doctor(_ config: String, pcscd socket: String, program: String? = nil) throws -> (status: Int32, report: DoctorReport) {
        let result = runProgram(program ?? Self.gatewayd, program == nil ? ["doctor", "--json", "--config", config] : [],
                                environment: ["PCSCLITE_CSOCK_NAME": socket])
        let report = try XCTUnwrap(try? GatewayJSON.decoder.decode(DoctorReport.self, from: Data(result.out.utf8)),
                                   "not a report: \(result.out) \(result.err)")
        return (result.status, report)
    }

    func line(_ report: DoctorReport, _ id: String, file: StaticString = #filePath, lineNumber: UInt = #line) throws -> DoctorCheck {
        try XCTUnwrap(report.check(id), "no line \(id) in \(report.checks.map(\.id))", file: file, line: lineNumber)
    }

    func testHealthyBoxThenPcscdStoppedThenHubDown() async throws {
        let box = try await startBox()
        defer { box.store.close() }
        let (pcscd, socket) = try await startPrivatePcscd()

        let healthy = try doctor(box.config, pcscd: socket)
        XCTAssertEqual(healthy.report.checks.filter { $0.status != .ok }, [], "a healthy box has only ok lines")
        XCTAssertEqual(healthy.status, 0)
        for id in ["configuration", "pcscd", "tokens", "certificate.box", "hub", "hub_tls", "box_certificate_accepted", "clock", "disk",
                   "queue.hoa_toc", "queue.thuong", "store", "console"] {
            XCTAssertNotNil(healthy.report.check(id), id)
        }
        XCTAssertTrue(try line(healthy.report, "clock").messageEN.contains("agrees with the hub"))

        stop(pcscd)
        let noPcscd = try doctor(box.config, pcscd: socket)
        XCTAssertEqual(noPcscd.status, 2)
        XCTAssertEqual(try line(noPcscd.report, "pcscd").status, .fail)
        XCTAssertTrue(try line(noPcscd.report, "pcscd").actionEN?.contains("systemctl restart pcscd") == true)
        XCTAssertEqual(noPcscd.report.checks.filter { $0.status != .ok }.map(\.id), ["pcscd"], "only pcscd is wrong")

        box.hub.terminate()
        box.hub.waitUntilExit()
        let noHub = try doctor(box.config, pcscd: socket)
        XCTAssertEqual(noHub.status, 2)
        let hub = try line(noHub.report, "hub")
        XCTAssertEqual(hub.status, .fail)
        XCTAssertTrue(hub.messageEN.contains("Cannot connect to the hub https://localhost:\(box.port)"), hub.messageEN)
        for id in ["hub_tls", "box_certificate_accepted", "clock"] {
            XCTAssertEqual(try line(noHub.report, id).status, .warning, "\(id) cannot be judged without the hub")
        }
        XCTAssertEqual(try line(noHub.report, "certificate.box").status, .ok)
    }

    /// While the daemon runs: the tokens are its watcher's (pcscd checked with a context of
    /// doctor's own: the watcher says "unavailable" until a reader appears), and the store is
    /// read beside it, read-only.
    func testHealthyWhileTheDaemonRuns() async throws {
        let box = try await startBox()
        box.store.close()  // removes its directory: the daemon makes the store afresh
        let (_, socket) = try await startPrivatePcscd()
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: Self.gatewayd)
        daemon.arguments = ["serve", "--config", box.config]
        daemon.environment = ProcessInfo.processInfo.environment.merging(["PCSCLITE_CSOCK_NAME": socket]) { $1 }
        FileManager.default.createFile(atPath: directory + "/gatewayd.log", contents: nil)
        daemon.standardError = FileHandle(forWritingAtPath: directory + "/gatewayd.log")
        try daemon.run()
        processes.append(daemon)
        try await waitUntil(seconds: 60) {
            runProgram(Self.gatewayd, ["status", "--config", box.config]).status == 0 || !daemon.isRunning
        }
        XCTAssertTrue(daemon.isRunning, (try? String(contentsOfFile: directory + "/gatewayd.log", encoding: .utf8)) ?? "")

        let running = try doctor(box.config, pcscd: socket)
        XCTAssertEqual(running.report.checks.filter { $0.status != .ok }, [], "a healthy box has only ok lines")
        XCTAssertEqual(running.status, 0)
        XCTAssertTrue(try line(running.report, "store").messageEN.hasPrefix("The store is consistent"))
    }

    /// The hub's certificate from another CA, the box's expired, a queue older than
    /// `max_queue_age`: each on its own line, the others untouched.
    func testHubFromAnotherCAExpiredBoxCertificateAndOldQueue() async throws {
        let box = try await startBox(extra: "")
        defer { box.store.close() }
        let nobody = directory + "/no-pcscd.comm"
        let original = try String(contentsOfFile: box.config, encoding: .utf8)

        // Another CA: the box trusts a root that did not issue the hub's certificate.
        try FileManager.default.createDirectory(atPath: directory + "/other", withIntermediateDirectories: true)
        let other = try TestPKI(directory: directory + "/other", subject: "/CN=Another CA")
        try original.replacingOccurrences(of: "ca_file = \"\(box.pki.root)\"", with: "ca_file = \"\(other.root)\"")
            .write(toFile: box.config, atomically: true, encoding: .utf8)
        let untrusted = try doctor(box.config, pcscd: nobody)
        XCTAssertEqual(untrusted.status, 2)
        XCTAssertEqual(try line(untrusted.report, "hub").status, .ok, "the hub is reachable")
        let tls = try line(untrusted.report, "hub_tls")
        XCTAssertEqual(tls.status, .fail)
        XCTAssertTrue(tls.messageEN.contains("not from the configured CA") && tls.messageEN.contains("Another CA"), tls.messageEN)

        // The box's certificate expired (openssl, an issuer independent of our code): the hub
        // refuses it, and its own line says so.
        let expired = try box.pki.issue("expired", subject: "/CN=\(Self.commune)", key: .p256, extensions: Hubd.clientExtensions, days: -1)
        try original.replacingOccurrences(of: "certificate = \"\(directory)/box.pem\"", with: "certificate = \"\(expired.chain)\"")
            .replacingOccurrences(of: "key = \"\(directory)/box.key\"", with: "key = \"\(expired.key)\"")
            .write(toFile: box.config, atomically: true, encoding: .utf8)
        let old = try doctor(box.config, pcscd: nobody)
        XCTAssertEqual(old.status, 2)
        let certificate = try line(old.report, "certificate.box")
        XCTAssertEqual(certificate.status, .fail)
        XCTAssertTrue(certificate.messageEN.contains("expired at"), certificate.messageEN)
        let accepted = try line(old.report, "box_certificate_accepted")
        XCTAssertEqual(accepted.status, .fail)
        XCTAssertTrue(accepted.messageEN.contains("refused the box's certificate"), accepted.messageEN)
        XCTAssertEqual(try line(old.report, "hub_tls").status, .ok)

        // A Hỏa tốc document queued two hours ago, with max_queue_age one hour (the store's own
        // API, with the old time; read by doctor while this process keeps the store open).
        try original.replacingOccurrences(of: "retry_cap = \"2s\"", with: "retry_cap = \"2s\"\nmax_queue_age = \"1h\"")
            .write(toFile: box.config, atomically: true, encoding: .utf8)
        let staged = try box.store.store.beginDocument(expectedSize: 4)
        try staged.append(Array("test".utf8))
        let document = try await box.store.store.commit(staged, IntakeRequest(
            fileName: "quyết định.pdf",
            metadata: DocumentMetadata(recipients: [AgencyCode(Self.province)!], subject: "Hỏa tốc", priority: .flash, signed: true),
            source: .api, intakeKey: nil, cause: "test")).document
        try box.store.store.queueForRelay(OutboundRecord(
            documentId: document.id, packageKey: "key", packageSHA256: "", packageSize: 4, lane: .hoaToc,
            queuedAt: Date().addingTimeInterval(-2 * 3600), uploadPath: nil, attempts: 0, nextAttemptAt: nil, lastError: nil, receipt: nil,
            deliveredAt: nil))
        let late = try doctor(box.config, pcscd: nobody)
        let lane = try line(late.report, "queue.hoa_toc")
        XCTAssertEqual(lane.status, .warning)
        XCTAssertTrue(lane.messageEN.contains("1 document(s) waiting, the oldest for 120 min (limit 60 min)"), lane.messageEN)
        XCTAssertEqual(try line(late.report, "queue.thuong").status, .ok)
        XCTAssertEqual(try line(late.report, "store").status, .ok, "the store is consistent")
        XCTAssertEqual(try line(late.report, "hub").status, .ok)
    }

    /// A hub whose `Date` is 10 minutes ahead: a Python `http.server` with TLS (client
    /// certificates required, from the same CA as hubd's) answering `GET /v1/directory` with a
    /// `Date` header it shifts. Independent of our HTTP stack, and the only way to move the
    /// hub's clock without moving the box's.
    func testClockTenMinutesOffTheHubsDate() async throws {
        let box = try await startBox()
        defer { box.store.close() }
        box.hub.terminate()
        box.hub.waitUntilExit()
        let server = try box.pki.issue("peer", subject: "/CN=localhost", key: .p256,
                                       extensions: "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
        let script = """
            import email.utils, http.server, ssl, sys, time
            port, cert, key, ca, shift = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
            class Hub(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def date_time_string(self, timestamp=None):
                    return email.utils.formatdate(time.time() + shift, usegmt=True)
                def do_GET(self):
                    body = b'{"agencies": []}'
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *args):
                    pass
            server = http.server.HTTPServer(("127.0.0.1", port), Hub)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            context.load_verify_locations(ca)
            context.verify_mode = ssl.CERT_REQUIRED
            server.socket = context.wrap_socket(server.socket, server_side=True)
            server.serve_forever()
            """
        try script.write(toFile: directory + "/hub.py", atomically: true, encoding: .utf8)
        let peer = Process()
        peer.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        peer.arguments = [directory + "/hub.py", "\(box.port)", server.chain, server.key, box.pki.root, "600"]
        try peer.run()
        processes.append(peer)
        try await waitUntil(seconds: 30) { isListening(onLoopbackPort: box.port) }

        let result = try doctor(box.config, pcscd: directory + "/no-pcscd.comm")
        XCTAssertEqual(try line(result.report, "box_certificate_accepted").status, .ok, "the peer is a hub the box trusts")
        let clock = try line(result.report, "clock")
        XCTAssertEqual(clock.status, .fail)
        // The hub's Date header has whole seconds and the request takes time: -600 s, give or take
        // two (a loaded CI machine gave -599).
        let offset = clock.messageEN.firstMatch(of: /(-?\d+) s off the hub's \(over 5 minutes\)/).flatMap { Int($0.1) }
        XCTAssertTrue(offset.map { (-602 ... -598).contains($0) } ?? false, clock.messageEN)
        XCTAssertNotNil(clock.actionEN)
    }

    /// The data directory on a real 16 MiB tmpfs (mounted in a mount namespace of its own, so
    /// nothing outlives the run), filled with fallocate: first to under a tenth free (warning),
    /// then below `[intake] disk_reserve` (fail).
    func testDiskNearlyFullOnARealSmallFilesystem() async throws {
        try XCTSkipUnless(getuid() == 0, "mounting a tmpfs needs root")
        let box = try await startBox()
        defer { box.store.close() }
        let small = directory + "/small"
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        let original = try String(contentsOfFile: box.config, encoding: .utf8)
        let config = directory + "/small.toml"
        try original.replacingOccurrences(of: "data_dir = \"\(directory)/box/data\"", with: "data_dir = \"\(small)\"")
            .replacingOccurrences(of: "disk_reserve = 0", with: "disk_reserve = \"1 MiB\"")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let doctor = "PCSCLITE_CSOCK_NAME=\"$2/no-pcscd.comm\" \"$3\" doctor --json --config \"$4\""
        let script = """
            mount -t tmpfs -o size=16m tmpfs "$0" && cp -a "$1/." "$0/" || exit 99
            free() { df -B1 --output=avail "$0" | tail -1; }
            fallocate -l $(( $(free) - 1500000 )) "$0/fill1" && \(doctor); echo '---'
            fallocate -l $(( $(free) - 500000 )) "$0/fill2" && \(doctor); true
            """
        let result = runProgram("/usr/bin/unshare", ["-m", "sh", "-c", script, small, directory + "/box/data", directory, Self.gatewayd, config])
        try XCTSkipIf(result.status == 99, "tmpfs cannot be mounted here: \(result.err)")
        let parts = result.out.components(separatedBy: "---\n")
        XCTAssertEqual(parts.count, 2, result.out + result.err)
        let reports = try parts.map { try GatewayJSON.decoder.decode(DoctorReport.self, from: Data($0.utf8)) }
        let filling = try line(reports[0], "disk"), full = try line(reports[1], "disk")
        XCTAssertEqual(filling.status, .warning, filling.messageEN)
        XCTAssertTrue(filling.messageEN.hasPrefix("Disk filling up"), filling.messageEN)
        XCTAssertEqual(full.status, .fail, full.messageEN)
        XCTAssertTrue(full.messageEN.contains("below the reserve of 1.0 MiB") || full.messageEN.contains("below the reserve"), full.messageEN)
        XCTAssertEqual(try line(reports[1], "store").status, .ok, "the store copied onto the tmpfs reads as consistent")
    }
}

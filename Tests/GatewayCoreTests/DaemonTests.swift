import DocumentModel
import DurableFiles
import Foundation
import TestSupport
import XCTest
@testable import GatewayCore
import TimeJSON

/// The real `gatewayd` binary as a separate process, spoken to by curl (an independent HTTP
/// client) and by `gatewayd`'s own client commands.
final class RunningDaemon {
    static var binary: String { repositoryRoot.appendingPathComponent(".build/debug/gatewayd").path }

    let directory: String
    let dataDirectory: String
    var process = Process()
    let logPath: String
    private var arguments: [String] = []
    /// Added to the test's own environment (e.g. systemd's NOTIFY_SOCKET).
    private var environment: [String: String] = [:]
    var socket: String { dataDirectory + "/run/gatewayd.sock" }

    init(config: String? = nil, environment: [String: String] = [:]) throws {
        self.environment = environment
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-daemon-\(UUID().uuidString)").path
        dataDirectory = directory + "/data"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        logPath = directory + "/gatewayd.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        var arguments = ["serve", "--data-dir", dataDirectory]
        // The console (on by default, 0.0.0.0:8443) is off here unless a test configures it:
        // tests run many daemons at once, and none should open a port on the machine's LAN.
        let config = (config ?? "").contains("[console]") ? config! : (config ?? "") + "\n[console]\nenabled = false\n"
        let path = directory + "/gatewayd.toml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        arguments += ["--config", path]
        self.arguments = arguments
        try launch()
    }

    func launch() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let log = FileHandle(forWritingAtPath: logPath)
        _ = try log?.seekToEnd()
        process.standardError = log
        try process.run()
    }

    /// `kill -9`, then the same daemon on the same data directory again.
    func killAndRestart() async throws {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try launch()
        try await waitUntilReady()
    }

    /// SIGTERM, then waits on the process's exit with `seconds` as the deadline. A daemon still
    /// running then fails the test with its log, and is killed so that tear-down does not hang.
    func terminate(exitingWithin seconds: Double, for test: XCTestCase) async -> Bool {
        let exited = XCTestExpectation(description: "gatewayd exited")
        process.terminationHandler = { _ in exited.fulfill() }
        process.terminate()
        await test.fulfillment(of: [exited], timeout: seconds)
        guard process.isRunning else { return true }
        kill(process.processIdentifier, SIGKILL)
        XCTFail("gatewayd still running \(seconds) s after SIGTERM; its log:\n" + ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""))
        return false
    }

    func waitUntilReady() async throws {
        try await waitUntil { FileManager.default.fileExists(atPath: self.socket) && self.cli(["status"]).status == 0 }
    }

    func stop() {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        TestLogs.keep(logPath, as: "gatewayd")  // for scripts/test's search for secrets
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `gatewayd ARGS --data-dir DIR`.
    @discardableResult
    func cli(_ arguments: [String], data: Bool = true) -> (status: Int32, out: String, err: String) {
        runProgram(Self.binary, arguments + (data ? ["--data-dir", dataDirectory] : []))
    }

    /// curl on the Unix socket; returns the HTTP status and the body.
    func curl(_ arguments: [String], path: String = "/v1/documents") -> (http: Int, body: String) {
        let result = runProgram("/usr/bin/curl", ["-sS", "--unix-socket", socket, "-o", "-", "-w", "\n%{http_code}"] + arguments + ["http://gateway" + path])
        var lines = result.out.split(separator: "\n", omittingEmptySubsequences: false)
        let code = Int(lines.popLast() ?? "") ?? 0
        return (code, lines.joined(separator: "\n"))
    }

    func errorCode(_ body: String) -> String? {
        guard let data = body.data(using: .utf8), let error = try? JSONDecoder().decode(APIErrorBody.self, from: data) else { return nil }
        return error.error.code
    }
}

final class DaemonTests: XCTestCase {
    var daemon: RunningDaemon!
    var files: String { daemon.directory }

    override func setUp() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd: run `swift build` first")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl (apt-get install curl)")
        daemon = try RunningDaemon(config: """
            [intake]
            max_document_size = "100 KB"
            disk_reserve = 0
            """)
        try await daemon.waitUntilReady()
    }

    override func tearDown() async throws { daemon?.stop() }

    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let path = files + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func metadata(_ json: String) -> String { "X-Gateway-Metadata: " + Data(json.utf8).base64EncodedString() }

    func snapshot() -> String { daemon.cli(["queue", "list", "--json"]).out }

    func testSubmitThroughTheCLIIsDurableAndVietnameseSurvives() throws {
        let path = write("Quyết định số 5.pdf", SamplePDF.bytes("Ủy ban nhân dân"))
        let submitted = daemon.cli(["submit", path, "--to", "000.00.20.H13", "--subject", "Về việc phân công nhiệm vụ năm 2026", "--priority", "2", "--json"])
        XCTAssertEqual(submitted.status, 0, submitted.err)
        let view = try GatewayJSON.decoder.decode(DocumentView.self, from: Data(submitted.out.utf8))
        XCTAssertEqual(view.document.fileName, "Quyết định số 5.pdf")
        XCTAssertEqual(view.document.metadata.subject, "Về việc phân công nhiệm vụ năm 2026")
        let stored = try Data(contentsOf: URL(fileURLWithPath: daemon.dataDirectory + "/store/objects/\(view.document.id)"))
        XCTAssertEqual(Array(stored), SamplePDF.bytes("Ủy ban nhân dân"))
        let shown = daemon.cli(["show", view.document.id.description])
        XCTAssertEqual(shown.status, 0)
        XCTAssertTrue(shown.out.contains("Về việc phân công nhiệm vụ năm 2026"))
        XCTAssertTrue(shown.out.contains("received → awaiting_leader"))
    }

    /// Each bad input on the API: the exact code and HTTP status, and nothing accepted changed.
    func testEveryBadInputOnTheAPIGetsItsCodeAndChangesNothing() throws {
        XCTAssertEqual(daemon.cli(["submit", write("ok.pdf", SamplePDF.bytes()), "--to", "000.00.20.H13"]).status, 0)
        let before = snapshot()
        let good = #""file_name": "x.pdf", "recipients": ["000.00.20.H13"]"#
        let cases: [(String, [String], Int, String)] = [
            ("empty", ["--data-binary", "@" + write("empty.pdf", []), "-H", metadata("{\(good)}")], 400, "empty_document"),
            ("too large", ["--data-binary", "@" + write("big.pdf", randomBytes(100_001)), "-H", metadata("{\(good)}")], 413, "document_too_large"),
            ("metadata not base64", ["--data-binary", "x", "-H", "X-Gateway-Metadata: %%%"], 400, "invalid_metadata"),
            ("metadata not JSON", ["--data-binary", "x", "-H", metadata("{file_name: x}")], 400, "invalid_metadata"),
            ("unknown key", ["--data-binary", "x", "-H", metadata(#"{\#(good), "recipient": "000.00.20.H13"}"#)], 400, "invalid_metadata"),
            ("agency code", ["--data-binary", "x", "-H", metadata(#"{"file_name": "x.pdf", "recipients": ["000.00.20.h13"]}"#)], 400, "invalid_agency_code"),
            ("no recipient", ["--data-binary", "x", "-H", metadata(#"{"file_name": "x.pdf"}"#)], 400, "missing_recipients"),
            ("priority", ["--data-binary", "x", "-H", metadata(#"{\#(good), "priority": 5}"#)], 400, "unknown_priority"),
            ("subject too long", ["--data-binary", "x", "-H", metadata(#"{\#(good), "subject": "\#(String(repeating: "ư", count: 501))"}"#)], 400, "field_too_long"),
            ("path separator", ["--data-binary", "x", "-H", metadata(#"{"file_name": "../../etc/passwd", "recipients": ["000.00.20.H13"]}"#)], 400, "invalid_file_name"),
            ("control character", ["--data-binary", "x", "-H", metadata(#"{"file_name": "a\u0007.pdf", "recipients": ["000.00.20.H13"]}"#)], 400, "invalid_file_name"),
            ("no file name", ["--data-binary", "x", "-H", metadata(#"{"recipients": ["000.00.20.H13"]}"#)], 400, "invalid_file_name"),
            ("bad idempotency key", ["--data-binary", "x", "-H", metadata("{\(good)}"), "-H", "Idempotency-Key: có dấu"], 400, "bad_request"),
        ]
        for (label, arguments, http, code) in cases {
            let response = daemon.curl(["-X", "POST"] + arguments)
            XCTAssertEqual(response.http, http, "\(label): \(response.body)")
            XCTAssertEqual(daemon.errorCode(response.body), code, "\(label): \(response.body)")
        }
        XCTAssertEqual(snapshot(), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory + "/store/tmp"), [])
    }

    /// An upload cut short (Content-Length larger than what is sent, then the client goes away).
    func testUploadCutShortKeepsNothing() async throws {
        let before = snapshot()
        // The client goes away only once the daemon is staging its body (a part file in
        // store/tmp), so the test sees the cut handled rather than racing the daemon's accept.
        let tmp = daemon.dataDirectory + "/store/tmp"
        let staged = { (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? [] }
        let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            daemon.socket.utf8CString.withUnsafeBytes { path.copyMemory(from: $0) }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(connected, 0)
        let metadata = Data(#"{"file_name":"cut.pdf","recipients":["000.00.20.H13"]}"#.utf8).base64EncodedString()
        let request = Array("POST /v1/documents HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nX-Gateway-Metadata: \(metadata)\r\n\r\n".utf8)
            + [UInt8](repeating: UInt8(ascii: "x"), count: 1000)
        XCTAssertEqual(request.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }, request.count)
        XCTAssertTrue(waitUntil(changesIn: tmp) { !staged().isEmpty }, "the daemon never staged the body")
        close(client)
        // The daemon discards the part file when it reads the end of the connection.
        XCTAssertTrue(waitUntil(changesIn: tmp) { staged().isEmpty }, "left in store/tmp: \(staged())")
        XCTAssertEqual(snapshot(), before)
        XCTAssertEqual(daemon.cli(["status"]).status, 0, "daemon still serving")
    }

    func testIdempotentRetryThroughCurlReturnsTheSameDocument() throws {
        let path = write("r.pdf", SamplePDF.bytes("retry"))
        let headers = ["-X", "POST", "--data-binary", "@" + path, "-H", metadata(#"{"file_name": "r.pdf", "recipients": ["000.00.20.H13"]}"#), "-H", "Idempotency-Key: so-12-2026"]
        let first = daemon.curl(headers)
        let second = daemon.curl(headers)
        XCTAssertEqual(first.http, 201, first.body)
        XCTAssertEqual(second.http, 200, second.body)
        let a = try GatewayJSON.decoder.decode(DocumentView.self, from: Data(first.body.utf8))
        let b = try GatewayJSON.decoder.decode(DocumentView.self, from: Data(second.body.utf8))
        XCTAssertEqual(a.document.id, b.document.id)
        XCTAssertEqual(b.duplicate, true)
        let conflict = daemon.curl(["-X", "POST", "--data-binary", "@" + write("other.pdf", SamplePDF.bytes("other")), "-H", metadata(#"{"file_name": "r.pdf", "recipients": ["000.00.20.H13"]}"#), "-H", "Idempotency-Key: so-12-2026"])
        XCTAssertEqual(conflict.http, 409)
        XCTAssertEqual(daemon.errorCode(conflict.body), "idempotency_conflict")
    }

    /// curl sends `Expect: 100-continue` for bodies over 1 MB and waits for the interim answer.
    func testLargeUploadGetsContinueAndIsStoredWhole() throws {
        let big = write("lớn.bin", randomBytes(1_500_000))
        let result = runProgram("/usr/bin/curl", ["-sS", "-v", "--unix-socket", daemon.socket, "-X", "POST", "--data-binary", "@" + big,
                                                  "-H", metadata(#"{"file_name": "lớn.bin", "recipients": ["000.00.20.H13"]}"#), "http://gateway/v1/documents"])
        XCTAssertTrue(result.err.contains("HTTP/1.1 100 Continue"), result.err)
        XCTAssertEqual(daemon.errorCode(result.out), "document_too_large", result.out)  // this daemon's limit is 100 KB
        let small = write("vừa.bin", randomBytes(90_000))
        let accepted = runProgram("/usr/bin/curl", ["-sS", "-v", "-H", "Expect: 100-continue", "--unix-socket", daemon.socket, "-X", "POST", "--data-binary", "@" + small,
                                                    "-H", metadata(#"{"file_name": "vừa.bin", "recipients": ["000.00.20.H13"]}"#), "http://gateway/v1/documents"])
        XCTAssertTrue(accepted.err.contains("HTTP/1.1 100 Continue"), accepted.err)
        let view = try GatewayJSON.decoder.decode(DocumentView.self, from: Data(accepted.out.utf8))
        XCTAssertEqual(view.document.size, 90_000)
        XCTAssertEqual(try POSIXFile.sha256(ofFile: small).sha256, view.document.sha256)
    }

    func testListShowAndErrorsForUnknownIds() throws {
        XCTAssertEqual(daemon.curl([], path: "/v1/documents/01a1fef5-7b3e-72b2-af94-ed484cee2eab").http, 404)
        XCTAssertEqual(daemon.errorCode(daemon.curl([], path: "/v1/documents/nope").body), "bad_request")
        XCTAssertEqual(daemon.errorCode(daemon.curl([], path: "/v1/documents?state=flying").body), "bad_request")
        XCTAssertEqual(daemon.curl([], path: "/v1/documents?state=awaiting_leader&limit=5").http, 200)
        XCTAssertEqual(daemon.curl([], path: "/v1/inbox?limit=5").http, 200)
        for path in ["/v1/documents?limit=0", "/v1/inbox?limit=1001", "/v1/inbox?limit=ten"] {
            XCTAssertEqual(daemon.errorCode(daemon.curl([], path: path).body), "bad_request", path)
        }
        XCTAssertEqual(daemon.cli(["show", "01a1fef5-7b3e-72b2-af94-ed484cee2eab"]).status, 1)
    }

    func testSocketIsOwnerAndGroupOnly() throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: daemon.socket)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o660)
    }

    /// Issue 16: `socket_group` works — the socket is that group's (0660) and its directory lets
    /// the group through (0710) and no more — and a group the box lacks stops the start, said.
    func testSocketGroupReachesTheSocketAndAMissingGroupStopsTheStart() async throws {
        guard let nogroup = getgrnam("nogroup")?.pointee.gr_gid else { throw XCTSkip("no group \"nogroup\" here") }
        let grouped = try RunningDaemon(config: "[intake]\ndisk_reserve = 0\n[api]\nsocket_group = \"nogroup\"\n")
        defer { grouped.stop() }
        try await grouped.waitUntilReady()
        var socket = stat(), directory = stat()
        XCTAssertEqual(stat(grouped.socket, &socket), 0)
        XCTAssertEqual(stat((grouped.socket as NSString).deletingLastPathComponent, &directory), 0)
        XCTAssertEqual(socket.st_gid, nogroup)
        XCTAssertEqual(socket.st_mode & 0o777, 0o660)
        XCTAssertEqual(directory.st_gid, nogroup)
        XCTAssertEqual(directory.st_mode & 0o777, 0o710, "the group passes through to the socket, lists nothing")

        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("gw-nogroup-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: missing, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: missing) }
        try "[api]\nsocket_group = \"khong-co-nhom-nay\"\n[console]\nenabled = false\n".write(toFile: missing + "/gatewayd.toml", atomically: true, encoding: .utf8)
        let refused = runProgram(RunningDaemon.binary, ["serve", "--config", missing + "/gatewayd.toml", "--data-dir", missing + "/data"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.err.contains("\"khong-co-nhom-nay\" is not a group on this box"), refused.err)
    }

    func testSecondDaemonOnTheSameDataDirectoryIsRefused() throws {
        let second = runProgram(RunningDaemon.binary, ["serve", "--data-dir", daemon.dataDirectory])
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.err.contains("Another gatewayd process"), second.err)
        XCTAssertEqual(daemon.cli(["status"]).status, 0)
    }

    func testStoreCheckRunsInsideTheRunningDaemon() throws {
        XCTAssertEqual(daemon.cli(["submit", write("c.pdf", SamplePDF.bytes()), "--to", "000.00.20.H13"]).status, 0)
        let check = daemon.cli(["store", "check", "--json"])
        XCTAssertEqual(check.status, 0, check.err)
        let report = try JSONDecoder().decode(StoreCheckReport.self, from: Data(check.out.utf8))
        XCTAssertEqual(report.integrity, "ok")
        XCTAssertEqual(report.documentsChecked, 1)
    }

    func testGracefulShutdownOnSIGTERMThenStatusSaysNotRunning() throws {
        daemon.process.terminate()
        daemon.process.waitUntilExit()
        XCTAssertEqual(daemon.process.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: daemon.socket))
        let status = daemon.cli(["status"])
        XCTAssertEqual(status.status, 3)
        XCTAssertTrue(status.err.contains("not running"), status.err)
        let submit = daemon.cli(["submit", write("late.pdf", [1]), "--to", "000.00.20.H13"])
        XCTAssertEqual(submit.status, 3)
        // With the daemon stopped, the queue is still readable from the store itself.
        XCTAssertEqual(daemon.cli(["queue", "list"]).status, 0)
    }

    /// Issue 12, acceptance 2: a submission half sent by a client that then goes quiet does not
    /// hold the stop (the HTTP server would wait for it forever); gatewayd exits within 5 s of
    /// SIGTERM. Waits on the process's exit, with 5 s as the deadline, not on a clock.
    func testSIGTERMEndsTheDaemonWithinFiveSecondsWhileAnUploadIsHalfSent() async throws {
        // Sends the head and 1,000 of the 5,000 bytes it announces, says so, then waits on its
        // standard input: the connection stays open, silent, until the test closes that pipe.
        let script = """
            import socket, base64, sys
            s = socket.socket(socket.AF_UNIX); s.connect("\(daemon.socket)")
            meta = base64.b64encode(b'{"file_name":"half.pdf","recipients":["000.00.20.H13"]}').decode()
            s.sendall(("POST /v1/documents HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5000\\r\\nX-Gateway-Metadata: " + meta + "\\r\\n\\r\\n").encode() + b"x" * 1000)
            print("sent", flush=True)
            sys.stdin.read()
            """
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        client.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe()
        client.standardInput = input
        client.standardOutput = output
        try client.run()
        defer {
            try? input.fileHandleForWriting.close()
            client.waitUntilExit()
        }
        XCTAssertTrue(String(decoding: output.fileHandleForReading.availableData, as: UTF8.self).hasPrefix("sent"))
        // The daemon is inside the upload once it has staged the first bytes.
        let staging = daemon.dataDirectory + "/store/tmp"
        try await waitUntil { !(try FileManager.default.contentsOfDirectory(atPath: staging)).isEmpty }

        guard await daemon.terminate(exitingWithin: 5, for: self) else { return }
        XCTAssertEqual(daemon.process.terminationStatus, 0, (try? String(contentsOfFile: daemon.logPath, encoding: .utf8)) ?? "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: daemon.socket))
        // The cut upload left no document behind.
        let listed = daemon.cli(["queue", "list", "--json"])
        XCTAssertEqual(try GatewayJSON.decoder.decode([DocumentRecord].self, from: Data(listed.out.utf8)), [], listed.err)
    }
}

final class CommandLineTests: XCTestCase {
    override func setUp() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd: run `swift build` first")
    }

    func testConfigCheckReportsKeyLineAndHint() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gw-\(UUID().uuidString).toml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
            data_dir = "/var/lib/gatewayd"

            [intake]
            max_documnet_size = "10 MB"
            disk_reserve = "lots"
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let result = runProgram(RunningDaemon.binary, ["config", "check", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.err.contains("\(path):4: intake.max_documnet_size: unknown key"), result.err)
        XCTAssertTrue(result.err.contains("did you mean \"max_document_size\"?"), result.err)
        XCTAssertTrue(result.err.contains("\(path):5: intake.disk_reserve: is not a size"), result.err)
        try "data_dir = \"/srv/gw\"\n[intake]\nmax_document_size = \"10 MB\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let good = runProgram(RunningDaemon.binary, ["config", "check", path])
        XCTAssertEqual(good.status, 0, good.err)
        XCTAssertTrue(good.out.contains("max_document_size = 10 MB"), good.out)
    }

    /// Issue 16: a box key that every user may read is warned about; 0600 passes quietly.
    func testConfigCheckWarnsAboutAKeyFileOthersCanRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["ca.pem", "box.pem", "box.key"] { FileManager.default.createFile(atPath: directory + "/" + name, contents: Data()) }
        try """
            [agency]
            code = "000.00.20.H13"
            [upstream]
            url = "https://hub.example:8443"
            ca_file = "\(directory)/ca.pem"
            certificate = "\(directory)/box.pem"
            key = "\(directory)/box.key"
            """.write(toFile: directory + "/gatewayd.toml", atomically: true, encoding: .utf8)
        chmod(directory + "/box.key", 0o644)
        let exposed = runProgram(RunningDaemon.binary, ["config", "check", directory + "/gatewayd.toml"])
        XCTAssertTrue(exposed.out.contains("WARNING: upstream.key \(directory)/box.key is readable by every user (mode 644)"), exposed.out)
        chmod(directory + "/box.key", 0o600)
        let kept = runProgram(RunningDaemon.binary, ["config", "check", directory + "/gatewayd.toml"])
        XCTAssertFalse(kept.out.contains("upstream.key"), kept.out)
    }

    /// `gatewayd no-such-command --help` printed the top-level help and exited 0, so a typo in a
    /// script looked like success; a name that is no command is wrong usage (64), --help or not.
    func testAnUnknownCommandIsWrongUsageEvenWithHelp() {
        let unknown: [([String], String)] = [
            (["no-such-command", "--help"], "no-such-command"), (["no-such-command"], "no-such-command"),
            (["queue", "no-such-command", "--help"], "no-such-command"), (["edxml", "nope", "-h"], "nope"),
        ]
        for (arguments, name) in unknown {
            let result = runProgram(RunningDaemon.binary, arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.out)")
            XCTAssertTrue(result.err.contains("unknown command \"\(name)\""), "\(arguments): \(result.err)")
            XCTAssertEqual(result.out, "", "\(arguments): no help is printed")
        }
        for arguments in [["--help"], ["help"], ["queue", "--help"], ["queue", "list", "--help"], ["edxml", "pack", "--help"], ["inbox", "--help"], ["token", "--help"]] {
            let result = runProgram(RunningDaemon.binary, arguments)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.err)")
            XCTAssertTrue(result.out.contains("USAGE"), "\(arguments): \(result.out)")
        }
    }
}

// The console as the office sees it: the real `gatewayd serve`, its HTTPS listener and its box
// CA, driven by curl (an independent client that checks the certificate) and `gatewayd` itself.
import Foundation
import TestSupport
import XCTest

final class ConsoleDaemonTests: XCTestCase {
    static var binary: String { repositoryRoot.appendingPathComponent(".build/debug/gatewayd").path }

    var directory = ""
    var data: String { directory + "/data" }
    var log: String { directory + "/gatewayd.log" }
    var port = 0
    var daemon: Process?

    override func setUp() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.binary), "needs .build/debug/gatewayd: run `swift build` first")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("console-daemon-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        port = freeLoopbackPort()
        daemon = try launch(data: data, log: log)
        let listening = waitUntil(changesIn: directory) { self.logText.contains("console listening") }
        XCTAssertTrue(listening, "the console did not start; log:\n\(logText)")
    }

    /// `gatewayd serve` on `data` with the console on this test's port.
    func launch(data: String, log: String) throws -> Process {
        let config = directory + "/gatewayd.toml"
        try "[intake]\ndisk_reserve = 0\n[console]\nlisten = \"127.0.0.1:\(port)\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--config", config, "--data-dir", data]
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        return process
    }

    override func tearDown() {
        if let daemon, daemon.isRunning { daemon.terminate(); daemon.waitUntilExit() }
        TestLogs.keep(log, as: "gatewayd-console")  // for scripts/test's search for secrets
        try? FileManager.default.removeItem(atPath: directory)
    }

    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    struct Answer {
        var status: Int
        var headers: String
        var body: String
        var location: String? {
            headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") }.map { String($0.dropFirst(9)).trimmingCharacters(in: .whitespaces) }
        }
        var csrf: String? {
            body.range(of: "name=\"csrf\" value=\"").map { String(body[$0.upperBound...].prefix { $0 != "\"" }) }
        }
    }

    /// curl against the console, trusting only the box's CA, with a cookie jar per `browser`.
    func curl(_ path: String, browser: String = "a", form: [String: String]? = nil, host: String = "localhost") -> Answer {
        var arguments = ["-sS", "--cacert", data + "/console/ca.pem", "-c", directory + "/\(browser).jar", "-b", directory + "/\(browser).jar",
                         "-D", directory + "/headers", "-o", "-", "-w", "\n%{http_code}"]
        for (name, value) in form ?? [:] { arguments += ["--data-urlencode", "\(name)=\(value)"] }
        let result = runProgram("/usr/bin/curl", arguments + ["https://\(host):\(port)\(path)"])
        var lines = result.out.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.popLast() ?? "") ?? 0
        XCTAssertNotEqual(status, 0, "curl: \(result.err)")
        let headers = (try? String(contentsOfFile: directory + "/headers", encoding: .utf8)) ?? ""
        return Answer(status: status, headers: headers, body: lines.joined(separator: "\n"))
    }

    func gatewayd(_ arguments: [String], stdin: String? = nil) -> (status: Int32, out: String, err: String) {
        guard let stdin else { return runProgram(Self.binary, arguments + ["--data-dir", data]) }
        // The password on stdin, as a script gives it (never in the arguments).
        return runProgram("/bin/sh", ["-c", "printf '%s\\n' \"$SECRET\" | \"$0\" \"$@\"", Self.binary] + arguments + ["--data-dir", data],
                          environment: ["SECRET": stdin])
    }

    func testTheConsoleFromFirstRunToLockOut() throws {
        let admin = TestSecrets.value("password.console-admin")
        let other = TestSecrets.value("password.console-other")

        // A fresh box: every page leads to the setup page, over TLS that chains to the box's CA
        // for its name and its address.
        XCTAssertEqual(curl("/").location, "/setup")
        XCTAssertEqual(curl("/users", host: "127.0.0.1").location, "/setup")
        let pem = curl("/ca.pem")
        XCTAssertEqual(pem.status, 200)
        XCTAssertEqual(pem.body.trimmingCharacters(in: .newlines),
                       try String(contentsOfFile: data + "/console/ca.pem", encoding: .utf8).trimmingCharacters(in: .newlines))

        // The technician's view: the CA's fingerprint as openssl computes it, and the setup code.
        let status = gatewayd(["status"])
        XCTAssertEqual(status.status, 0, status.err)
        let openssl = runProgram("/usr/bin/openssl", ["x509", "-in", data + "/console/ca.pem", "-noout", "-fingerprint", "-sha256"])
        let fingerprint = try XCTUnwrap(openssl.out.split(separator: "=").last).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(status.out.contains("CA SHA-256: \(fingerprint)"), status.out)
        let codeLine = try XCTUnwrap(status.out.split(separator: "\n").first { $0.contains("setup code") }, status.out)
        let code = try XCTUnwrap(codeLine.split(separator: " ").last.map(String.init))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(gatewayd(["status", "--json"]).out.utf8)) as? [String: Any])
        let console = try XCTUnwrap(json["console"] as? [String: Any], "\(json)")
        XCTAssertEqual(console["ca_sha256"] as? String, fingerprint)
        XCTAssertEqual(console["setup_code_waiting"] as? Bool, true)
        XCTAssertNotNil(json["documents_by_state"], "the daemon's own fields are kept")
        let mode = try FileManager.default.attributesOfItem(atPath: data + "/console/ca.key")[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)

        // Setup: a wrong code is refused, the right one makes the first quản trị, once.
        let setupPage = curl("/setup")
        let token = try XCTUnwrap(setupPage.csrf)
        var fields = ["csrf": token, "code": "1111-2222-3333", "login": "admin", "display_name": "Quản trị", "password": admin, "password_again": admin]
        XCTAssertEqual(curl("/setup", form: fields).status, 403)
        fields["code"] = code
        XCTAssertEqual(curl("/setup", form: fields).location, "/login?done=setup")
        XCTAssertEqual(curl("/setup", form: fields).status, 303, "no second setup")
        XCTAssertFalse(gatewayd(["status"]).out.contains(code), "the code is used up")

        // Login: the session cookie is Secure, HttpOnly and SameSite=Strict.
        let loginToken = try XCTUnwrap(curl("/login").csrf)
        let login = curl("/login", form: ["csrf": loginToken, "login": "admin", "password": admin])
        XCTAssertEqual(login.location, "/")
        let cookie = try XCTUnwrap(login.headers.split(separator: "\r\n").first { $0.hasPrefix("Set-Cookie: gw_session=") }, login.headers)
        for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] { XCTAssertTrue(cookie.contains("; \(attribute)"), String(cookie)) }
        let sessionToken = String(cookie.dropFirst("Set-Cookie: gw_session=".count).prefix { $0 != ";" })
        XCTAssertEqual(curl("/").status, 200)

        // A form without the session's CSRF token is refused; pages refuse without a session.
        XCTAssertEqual(curl("/users", form: ["login": "x", "display_name": "X", "role": "van_thu", "password": other, "password_again": other]).status, 403)
        XCTAssertEqual(curl("/", browser: "stranger").location, "/login")
        XCTAssertEqual(curl("/users", browser: "stranger", form: ["login": "x"]).status, 403)

        // An account from the command line while the daemon runs; its name is shown escaped.
        let added = gatewayd(["user", "add", "clerk", "--name", "<script>alert(1)</script>", "--role", "van_thu"], stdin: other)
        XCTAssertEqual(added.status, 0, added.err)
        let users = curl("/users")
        XCTAssertTrue(users.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), users.body)
        XCTAssertFalse(users.body.contains("<script>"))
        XCTAssertTrue(gatewayd(["user", "list"]).out.contains("clerk"))

        // Lock-out: ten failures from this address (the wrong setup code was the first), then
        // even the right password is refused.
        for index in 0..<9 {
            let page = curl("/login", browser: "guesser")
            let answer = curl("/login", browser: "guesser", form: ["csrf": page.csrf ?? "", "login": "nobody\(index)", "password": "x"])
            XCTAssertEqual(answer.status, 401)
        }
        let page = curl("/login", browser: "guesser")
        let refused = curl("/login", browser: "guesser", form: ["csrf": page.csrf ?? "", "login": "clerk", "password": other])
        XCTAssertEqual(refused.status, 429)
        XCTAssertTrue(refused.body.contains("15 phút"))

        // Nothing secret in the daemon's log.
        daemon?.terminate()
        daemon?.waitUntilExit()
        let text = logText
        XCTAssertTrue(text.contains("console: login"), text)
        for secret in [admin, other, code, SetupCodeDigits.of(code), sessionToken] {
            XCTAssertFalse(text.contains(secret), "a secret in the log:\n\(text)")
        }
    }
}

extension ConsoleDaemonTests {
    /// The first quản trị made on the box's command line: the setup code is used up with it.
    func testAnAdministratorFromTheCommandLineEndsTheSetup() throws {
        XCTAssertEqual(curl("/").location, "/setup")
        XCTAssertTrue(gatewayd(["status"]).out.contains("setup code"))
        let wrongRole = gatewayd(["user", "add", "boss", "--name", "Chủ tịch", "--role", "chu_tich"], stdin: "unused")
        XCTAssertEqual(wrongRole.status, 64, wrongRole.err)
        let added = gatewayd(["user", "add", "boss", "--name", "Quản trị", "--role", "quan_tri"], stdin: TestSecrets.value("password.console-admin"))
        XCTAssertEqual(added.status, 0, added.err)
        XCTAssertFalse(gatewayd(["status"]).out.contains("setup code"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: data + "/console/setup-code"))
        XCTAssertEqual(curl("/").location, "/login")
        XCTAssertEqual(curl("/setup").location, "/login")
    }
}

extension ConsoleDaemonTests {
    /// A second box on the same port: its console cannot listen, which it logs, and the rest of
    /// the daemon works on.
    func testADaemonWhoseConsoleCannotListenGoesOn() throws {
        let second = directory + "/second", secondLog = directory + "/second.log"
        let process = try launch(data: second, log: secondLog)
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
        func text() -> String { (try? String(contentsOfFile: secondLog, encoding: .utf8)) ?? "" }
        XCTAssertTrue(waitUntil(changesIn: directory) { text().contains("console not started") && text().contains("local API listening") }, text())
        let status = runProgram(Self.binary, ["status", "--data-dir", second])
        XCTAssertEqual(status.status, 0, status.err)
        XCTAssertEqual(curl("/").location, "/setup", "the first box's console is untouched")
        TestLogs.keep(secondLog, as: "gatewayd-console-second")
    }
}

enum SetupCodeDigits {
    static func of(_ code: String) -> String { code.filter(\.isNumber) }
}

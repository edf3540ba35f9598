// `gatewayd user …` with the daemon stopped: the store opened under its lock (and migrated), the
// password from stdin, every change audited.
import Foundation
import GatewayCore
import Logging
import TestSupport
import XCTest

final class ConsoleCommandLineTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: ConsoleDaemonTests.binary), "needs .build/debug/gatewayd: run `swift build` first")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("console-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // A leader to bind an account to.
        try """
            [signing]
            [[signing.leaders]]
            name = "Nguyễn Văn A"
            title = "CHỦ TỊCH"
            identity = "CCCD:001234567890"
            """.write(toFile: directory + "/gatewayd.toml", atomically: true, encoding: .utf8)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func user(_ arguments: [String], stdin: String? = nil) -> (status: Int32, out: String, err: String) {
        let all = ["user"] + arguments + ["--config", directory + "/gatewayd.toml", "--data-dir", directory + "/data"]
        guard let stdin else { return runProgram(ConsoleDaemonTests.binary, all) }
        return runProgram("/bin/sh", ["-c", "printf '%s\\n' \"$SECRET\" | \"$0\" \"$@\"", ConsoleDaemonTests.binary] + all, environment: ["SECRET": stdin])
    }

    func testAccountsWithTheDaemonStopped() throws {
        let password = TestSecrets.value("password.console-other")
        XCTAssertEqual(user(["add", "lead", "--name", "Nguyễn Văn A", "--role", "lanh_dao", "--identity", "CCCD:001234567890"], stdin: password).status, 0)
        let stranger = user(["add", "other", "--name", "B", "--role", "lanh_dao", "--identity", "CCCD:009999999999"], stdin: password)
        XCTAssertEqual(stranger.status, 1)
        XCTAssertTrue(stranger.err.contains("[[signing.leaders]]"), stranger.err)
        let short = user(["add", "clerk", "--name", "C", "--role", "van_thu"], stdin: "short")
        XCTAssertEqual(short.status, 1)
        XCTAssertTrue(short.err.contains("ít nhất 8 ký tự"), short.err)
        XCTAssertEqual(user(["add", "clerk", "--name", "C", "--role", "van_thu"], stdin: password).status, 0)
        XCTAssertEqual(user(["add", "clerk", "--name", "C", "--role", "van_thu"], stdin: password).status, 1, "exists")
        XCTAssertEqual(user(["passwd", "clerk"], stdin: TestSecrets.value("password.console-admin")).status, 0)
        XCTAssertEqual(user(["disable", "clerk"]).status, 0)
        XCTAssertEqual(user(["unlock", "clerk"]).status, 0)
        let missing = user(["disable", "nobody"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("Không có tài khoản nobody"), missing.err)

        let list = user(["list", "--json"])
        XCTAssertEqual(list.status, 0, list.err)
        let entries = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(list.out.utf8)) as? [[String: Any]])
        XCTAssertEqual(entries.map { $0["login"] as? String }, ["clerk", "lead"])
        XCTAssertEqual(entries.first?["disabled"] as? Bool, true)
        XCTAssertEqual(entries.last?["identity"] as? String, "CCCD:001234567890")

        // What the store kept: a bcrypt hash (never the password) and an audit line per change.
        let store = try DocumentStore(layout: StoreLayout(dataDirectory: directory + "/data"), limits: .init(),
                                      logger: Logger(label: "test"), ioPool: .singleton)
        let clerk = try XCTUnwrap(store.accounts.user("clerk"))
        XCTAssertTrue(clerk.passwordHash.hasPrefix("$2b$11$"))
        XCTAssertFalse(clerk.passwordHash.contains(password))
        XCTAssertEqual(try store.accounts.auditEntries().map(\.action).reversed(), ["user_add", "user_add", "password", "disable", "unlock"])
        XCTAssertTrue(try store.accounts.auditEntries().allSatisfy { $0.actor.hasPrefix("cli:") })
    }

    /// `[console]` in `gatewayd config check`: a wrong address with its line, and what is served.
    func testConfigCheckShowsTheConsole() throws {
        let path = directory + "/check.toml"
        func check(_ text: String) throws -> (status: Int32, out: String, err: String) {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return runProgram(ConsoleDaemonTests.binary, ["config", "check", path])
        }
        let wrong = try check("[console]\nlisten = \"8443\"\n")
        XCTAssertEqual(wrong.status, 1)
        XCTAssertTrue(wrong.err.contains("\(path):2: console.listen: \"8443\" is not HOST:PORT"), wrong.err)
        XCTAssertTrue(try check("").out.contains("console = https://0.0.0.0:8443"))
        XCTAssertTrue(try check("[console]\nenabled = false\n").out.contains("console = off"))
        XCTAssertTrue(try check("[console]\nlisten = \"192.168.1.20:443\"\n").out.contains("console = https://192.168.1.20:443"))
    }
}

import Foundation
import TestSupport
import XCTest
@testable import GatewayCore

/// `POST /v1/tokens/sign` on the real daemon, spoken to by curl: what is refused before any token
/// is opened (so before any PIN try), each with its code and both languages. The signatures
/// themselves, on a real token, are `TokenSignThroughDaemonTests`' (SoftHSM2).
final class TokenSignRouteTests: XCTestCase {
    var daemon: RunningDaemon!

    override func setUp() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd: run `swift build` first")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl (apt-get install curl)")
        daemon = try RunningDaemon(config: "[intake]\ndisk_reserve = 0\n")
        try await daemon.waitUntilReady()
    }

    override func tearDown() async throws { daemon?.stop() }

    func post(_ body: String) -> (http: Int, body: String) {
        daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", body], path: "/v1/tokens/sign")
    }

    func testMalformedRequestsAreRefusedBeforeAnyTokenIsOpened() throws {
        let digest = Data(repeating: 7, count: 32).base64EncodedString()
        let short = Data(repeating: 7, count: 20).base64EncodedString()
        let refused: [(body: String, says: String)] = [
            ("not json", "the body must be JSON"),
            (#"{"algorithm": "ecdsa-sha256", "digests": ["\#(digest)"], "pin": "x", "module": "/tmp/evil.so"}"#, #"unknown key "module""#),
            (#"{"algorithm": "md5", "digests": ["\#(digest)"], "pin": "x"}"#, #""algorithm": one of rsa-pkcs1-sha256"#),
            (#"{"algorithm": "ecdsa-sha256", "digests": [], "pin": "x"}"#, #""digests": 1 to 1000 digests"#),
            (#"{"algorithm": "ecdsa-sha256", "digests": ["\#(short)"], "pin": "x"}"#, #""digests"[0]: 32 bytes (sha256)"#),
            (#"{"algorithm": "ecdsa-sha384", "digests": ["\#(digest)"], "pin": "x"}"#, #""digests"[0]: 48 bytes (sha384)"#),
            (#"{"algorithm": "ecdsa-sha256", "digests": ["not base64!"], "pin": "x"}"#, #""digests"[0]"#),
            (#"{"algorithm": "ecdsa-sha256", "digests": ["\#(digest)"]}"#, "the PIN is missing"),
            (#"{"algorithm": "ecdsa-sha256", "digests": ["\#(digest)"], "pin": ""}"#, "the PIN is missing"),
            (#"{"algorithm": "ecdsa-sha256", "digests": ["\#(digest)"], "pin": "x", "key": 9}"#, #""key" must be a string"#),
            (#"{"algorithm": "ecdsa-sha256", "digests": ["\#(digest)"], "pin": "x", "confirm_last_try": "yes"}"#, "must be true or false"),
        ]
        for (body, says) in refused {
            let answer = post(body)
            XCTAssertEqual(answer.http, 400, "\(body): \(answer.body)")
            let error = try XCTUnwrap(try? JSONDecoder().decode(APIErrorBody.self, from: Data(answer.body.utf8)), answer.body).error
            XCTAssertEqual(error.code, "bad_request")
            XCTAssertTrue(error.messageEn.contains(says), "\(body): \(error.messageEn)")
            XCTAssertFalse(error.messageVi.isEmpty)
        }
        // 1001 digests: more than one request may carry.
        let many = #"{"algorithm": "ecdsa-sha256", "pin": "x", "digests": ["# + Array(repeating: "\"\(digest)\"", count: 1001).joined(separator: ",") + "]}"
        XCTAssertEqual(post(many).http, 400)
        // Over the body's bound: refused whole — 413, or the connection closed while curl still
        // sends (the daemon answers before reading the rest).
        let tooLarge = post(#"{"pin": ""# + String(repeating: "x", count: 300 * 1024) + #""}"#)
        XCTAssertTrue([0, 413].contains(tooLarge.http), "\(tooLarge)")
        let log = try String(contentsOfFile: daemon.logPath, encoding: .utf8)
        XCTAssertFalse(log.contains("token digests"), "nothing reached the stage: \(log)")
    }

    /// `api.tcp`'s loopback port is open to every user of the box, not only the socket's group:
    /// the token routes are not served there (404), while the rest of the API is and the socket
    /// still has them.
    func testTheTokenRoutesAreOnTheSocketOnly() async throws {
        daemon.stop()
        let port = freeLoopbackPort()
        daemon = try RunningDaemon(config: "[intake]\ndisk_reserve = 0\n[api]\ntcp = \"127.0.0.1:\(port)\"\n")
        try await daemon.waitUntilReady()
        try await waitUntil { isListening(onLoopbackPort: port) }
        func overTCP(_ method: String, _ path: String) -> String {
            runProgram("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", method, "-H", "Content-Type: application/json",
                                         "--data-binary", "{}", "http://127.0.0.1:\(port)" + path]).out
        }
        XCTAssertEqual(overTCP("POST", "/v1/tokens/sign"), "404")
        XCTAssertEqual(overTCP("POST", "/v1/tokens/certificate"), "404")
        XCTAssertEqual(overTCP("GET", "/v1/tokens"), "404")
        XCTAssertEqual(overTCP("POST", "/v1/tokens/change-pin"), "404")
        XCTAssertEqual(runProgram("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/v1/status"]).out, "200")
        XCTAssertEqual(post("{}").http, 400, "the socket serves the route")
    }

    /// `POST /v1/tokens/change-pin`: what the console's form refuses before the token is touched
    /// (a missing PIN, the same PIN twice) and anything malformed, 400 with both languages, and
    /// nothing reaches the stage.
    func testPINChangesRefusedBeforeAnyTokenIsOpened() throws {
        let pin = TestSecrets.value("pin.softhsm-user")
        let refused: [(body: String, says: String)] = [
            ("not json", "the body must be JSON"),
            (#"{"current": "\#(pin)"}"#, "the current or the new PIN is missing"),
            (#"{"current": "", "new": "\#(pin)"}"#, "the current or the new PIN is missing"),
            (#"{"current": "\#(pin)", "new": "\#(pin)"}"#, "the new PIN is the current one"),
            (#"{"current": "a", "new": "b", "module": "/tmp/evil.so"}"#, #"unknown key "module""#),
            (#"{"current": "a", "new": "b", "confirm_last_try": 1}"#, "must be true or false"),
        ]
        for (body, says) in refused {
            let answer = daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", body], path: "/v1/tokens/change-pin")
            XCTAssertEqual(answer.http, 400, "\(body): \(answer.body)")
            let error = try XCTUnwrap(try? JSONDecoder().decode(APIErrorBody.self, from: Data(answer.body.utf8)), answer.body).error
            XCTAssertEqual(error.code, "bad_request")
            XCTAssertTrue(error.messageEn.contains(says), "\(body): \(error.messageEn)")
            XCTAssertFalse(error.messageVi.isEmpty)
        }
        let log = try String(contentsOfFile: daemon.logPath, encoding: .utf8)
        XCTAssertFalse(log.contains("token PIN change"), "nothing reached the stage: \(log)")
        XCTAssertFalse(log.contains(pin), "a PIN in the daemon's log")
    }

    /// A well-formed request for a token that is not there: the stage's `no_token`, said in both
    /// languages, and the request's one log line without its PIN.
    func testNoTokenIsNamedAndTheLogLineHasNoPIN() throws {
        let pin = TestSecrets.value("pin.softhsm-user")
        let answer = post(#"{"key": "pkcs11:token=Khong%20co;id=%01", "algorithm": "ecdsa-sha256", "digests": ["\#(Data(repeating: 1, count: 32).base64EncodedString())"], "pin": "\#(pin)"}"#)
        XCTAssertEqual(answer.http, 422, answer.body)
        XCTAssertEqual(daemon.errorCode(answer.body), "no_token", answer.body)
        XCTAssertTrue(answer.body.contains("Không thấy token") && answer.body.contains("no token"), answer.body)
        let log = try String(contentsOfFile: daemon.logPath, encoding: .utf8)
        XCTAssertEqual(log.components(separatedBy: "token digests refused").count - 1, 1, log)
        XCTAssertFalse(log.contains(pin), "a PIN in the daemon's log")
    }
}

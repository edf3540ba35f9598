// The console's rules with the time passed in: sessions, CSRF comparison, lock-out, accounts.
@testable import Console
import Foundation
import GatewayCore
import XCTest

final class UnitSecurityTests: XCTestCase {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func testASessionEndsAfterHalfAnHourIdle() {
        let rules = SessionRules()
        let (token, opened) = rules.open(login: "a", now: start)
        var session = opened
        XCTAssertNotEqual(session.tokenSHA256, token, "only the token's hash is stored")
        XCTAssertEqual(session.tokenSHA256, Secrets.sha256(token))
        XCTAssertTrue(rules.isAlive(session, now: start.addingTimeInterval(29 * 60)))
        XCTAssertFalse(rules.isAlive(session, now: start.addingTimeInterval(30 * 60)))
        session.lastSeenAt = start.addingTimeInterval(29 * 60)
        XCTAssertTrue(rules.isAlive(session, now: start.addingTimeInterval(58 * 60)), "a request keeps it alive")
    }

    func testASessionEndsTwelveHoursAfterLoginWhateverTheActivity() {
        let rules = SessionRules()
        var session = rules.open(login: "a", now: start).record
        var now = start
        while now.timeIntervalSince(start) < 12 * 3600 - 600 {
            now.addTimeInterval(10 * 60)
            XCTAssertTrue(rules.isAlive(session, now: now), "\(now.timeIntervalSince(start))")
            session.lastSeenAt = now
        }
        XCTAssertFalse(rules.isAlive(session, now: start.addingTimeInterval(12 * 3600)))
    }

    func testTheLastSeenTimeIsWrittenAtMostOnceAMinute() {
        let rules = SessionRules()
        let (_, session) = rules.open(login: "a", now: start)
        XCTAssertFalse(rules.needsTouch(session, now: start.addingTimeInterval(59)))
        XCTAssertTrue(rules.needsTouch(session, now: start.addingTimeInterval(60)))
    }

    func testTokensAreRandomAndSafeInCookiesAndForms() {
        let tokens = Set((0..<100).map { _ in Secrets.randomToken() })
        XCTAssertEqual(tokens.count, 100)
        for token in tokens {
            XCTAssertEqual(token.count, 43)
            XCTAssertTrue(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, token)
        }
    }

    func testCSRFTokensCompareWhole() {
        XCTAssertTrue(Secrets.equal("abc", "abc"))
        XCTAssertFalse(Secrets.equal("abc", "abd"))
        XCTAssertFalse(Secrets.equal("abc", "ab"))
        XCTAssertFalse(Secrets.equal("", "abc"))
    }

    func testAnAddressIsShutOutAfterTenFailuresInAQuarterHour() {
        let rules = LockOutRules()
        let failures = (0..<10).map { start.addingTimeInterval(Double($0) * 60) }
        let last = failures.last!
        XCTAssertNil(rules.addressRefusedUntil(failures: Array(failures.dropLast()), now: last), "nine are allowed")
        XCTAssertEqual(rules.addressRefusedUntil(failures: failures, now: last), last.addingTimeInterval(15 * 60))
        XCTAssertNotNil(rules.addressRefusedUntil(failures: failures, now: last.addingTimeInterval(14 * 60)))
        XCTAssertNil(rules.addressRefusedUntil(failures: failures, now: last.addingTimeInterval(15 * 60)), "refused for 15 minutes")
        // Spread over more than the window, ten failures do not add up.
        let slow = (0..<10).map { start.addingTimeInterval(Double($0) * 120) }
        XCTAssertNil(rules.addressRefusedUntil(failures: slow, now: slow.last!))
    }

    func testAnAccountWaitsLongerAfterEachFailureButNeverMoreThanAMinute() {
        let rules = LockOutRules()
        XCTAssertEqual((0..<5).map { rules.accountDelay(failures: $0) }, [0, 0, 0, 0, 0])
        XCTAssertEqual((5..<12).map { rules.accountDelay(failures: $0) }, [2, 4, 8, 16, 32, 60, 60])
        XCTAssertEqual(rules.accountDelay(failures: 10_000), 60)
        var user = ConsoleUser(login: "lead", displayName: "L", role: .lanhDao, identity: nil, passwordHash: "")
        user.failedLogins = 7
        user.lastFailedAt = start
        XCTAssertEqual(rules.accountRefusedUntil(user, now: start.addingTimeInterval(1)), start.addingTimeInterval(8))
        XCTAssertNil(rules.accountRefusedUntil(user, now: start.addingTimeInterval(8)))
    }

    func testAccountRules() {
        let rules = AccountRules(leaderIdentities: ["CCCD:001234567890"])
        func problem(_ login: String = "lead", name: String = "Lãnh đạo", role: ConsoleRole = .lanhDao, identity: String? = "CCCD:001234567890",
                     password: String = "12345678", again: String? = nil, existing: [ConsoleUser] = []) -> Phrase? {
            if case .failure(let problem) = rules.newUser(login: login, displayName: name, role: role, identity: identity, password: password,
                                                          passwordAgain: again, existing: existing) { return problem.phrase }
            return nil
        }
        XCTAssertNil(problem())
        XCTAssertEqual(problem("Lead"), .invalidLogin)
        XCTAssertEqual(problem("a"), .invalidLogin)
        XCTAssertEqual(problem("lê"), .invalidLogin)
        XCTAssertEqual(problem(name: ""), .invalidDisplayName)
        XCTAssertEqual(problem(name: "a\u{7}b"), .invalidDisplayName)
        XCTAssertEqual(problem(password: "1234567"), .passwordTooShort)
        XCTAssertEqual(problem(again: "12345679"), .passwordsDiffer)
        XCTAssertEqual(problem(identity: nil), .identityRequired)
        XCTAssertEqual(problem(identity: "CCCD:009999999999"), .identityNotALeader)
        XCTAssertNil(problem(role: .vanThu, identity: nil))
        let leader = ConsoleUser(login: "other", displayName: "O", role: .lanhDao, identity: "CCCD:001234567890", passwordHash: "")
        XCTAssertEqual(problem(existing: [leader]), .identityTaken)
        XCTAssertEqual(problem("other", existing: [leader]), .userExists)
        // A script in a name is allowed (it is only ever shown escaped).
        XCTAssertNil(problem(name: "<script>alert(1)</script>", role: .vanThu, identity: nil))
    }

    /// bcrypt at the chosen cost: checks what a hash accepts, and prints its time on this machine
    /// (docs/console.md gives the figure).
    func testPasswordsAreBcryptAtTheChosenCost() {
        let begin = ContinuousClock.now
        let hash = Passwords.hash("correct horse")
        let took = ContinuousClock.now - begin
        print("bcrypt cost \(Passwords.cost): \(took)")
        XCTAssertTrue(hash.hasPrefix("$2b$11$"), hash)
        XCTAssertTrue(Passwords.verify("correct horse", hash: hash))
        XCTAssertFalse(Passwords.verify("correct hors", hash: hash))
        XCTAssertFalse(Passwords.verify("anything", hash: Passwords.decoy))
    }

    func testSetupCodesAreTwelveDigitsAndMatchAsTyped() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("console-setup-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let code = SetupCode(layout: StoreLayout(dataDirectory: directory))
        let (made, new) = try code.ensure()
        XCTAssertTrue(new)
        XCTAssertEqual(made.count, 14)
        XCTAssertEqual(SetupCode.digits(made).count, 12)
        XCTAssertEqual(try code.ensure().code, made, "kept across restarts until used")
        let mode = try FileManager.default.attributesOfItem(atPath: code.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        XCTAssertTrue(code.matches(SetupCode.digits(made)))
        XCTAssertTrue(code.matches(" " + made.replacingOccurrences(of: "-", with: " ")))
        XCTAssertFalse(code.matches(String(SetupCode.digits(made).dropLast()) + "x"))
        code.consume()
        XCTAssertNil(code.read())
        XCTAssertFalse(code.matches(made))
    }
}

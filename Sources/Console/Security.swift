// The console's security rules as pure values with the time passed in: sessions, CSRF, lock-out,
// passwords. The server applies them; the tests drive them with a clock of their own.
import Crypto
import Foundation
import GatewayCore
import HummingbirdBcrypt

/// Sessions end after `idle` without a request and, whatever the activity, `absolute` after login.
package struct SessionRules: Sendable {
    package var idle: TimeInterval = 30 * 60
    package var absolute: TimeInterval = 12 * 3600
    /// A request updates the session's last-seen time only when it is older than this, so that a
    /// page's requests do not each write to the database.
    package var touchInterval: TimeInterval = 60

    package init() {}

    package func isAlive(_ session: ConsoleSessionRecord, now: Date) -> Bool {
        now < session.expiresAt && now.timeIntervalSince(session.lastSeenAt) < idle
    }

    package func needsTouch(_ session: ConsoleSessionRecord, now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeenAt) >= touchInterval
    }

    /// A new session for `login`: the cookie's token (returned, never stored) and the record kept.
    package func open(login: String, now: Date) -> (token: String, record: ConsoleSessionRecord) {
        let token = Secrets.randomToken()
        return (token, ConsoleSessionRecord(tokenSHA256: Secrets.sha256(token), login: login, csrf: Secrets.randomToken(),
                                            createdAt: now, lastSeenAt: now, expiresAt: now.addingTimeInterval(absolute)))
    }
}

/// Refusals after failed logins. Per address: `addressLimit` failures within `addressWindow`
/// shut that address out for `addressWindow` after the last of them. Per account: a delay that
/// grows with the failures since the last success, up to `accountDelayCap` — never a lock, so
/// that a neighbour on the LAN typing wrong passwords cannot keep the leader out for long.
package struct LockOutRules: Sendable {
    package var addressLimit = 10
    package var addressWindow: TimeInterval = 15 * 60
    /// Failures an account may have before any delay.
    package var accountFreeFailures = 5
    package var accountDelayBase: TimeInterval = 2
    package var accountDelayCap: TimeInterval = 60

    package init() {}

    /// Until when `address` is refused, given its failures (oldest first, from at least twice the
    /// window back); nil when it is not. Refused while `addressLimit` failures came within one
    /// window and the last of them is less than a window old.
    package func addressRefusedUntil(failures: [Date], now: Date) -> Date? {
        guard failures.count >= addressLimit else { return nil }
        var until: Date?
        for last in (addressLimit - 1)..<failures.count
        where failures[last].timeIntervalSince(failures[last - addressLimit + 1]) < addressWindow {
            until = failures[last].addingTimeInterval(addressWindow)
        }
        guard let until, until > now else { return nil }
        return until
    }

    /// The wait after the account's `failures`-th failure (0 while within the free ones).
    package func accountDelay(failures: Int) -> TimeInterval {
        guard failures >= accountFreeFailures else { return 0 }
        let doublings = min(failures - accountFreeFailures, 16)
        return min(accountDelayBase * pow(2, Double(doublings)), accountDelayCap)
    }

    /// Until when the account refuses to check a password; nil when it does not.
    package func accountRefusedUntil(_ user: ConsoleUser, now: Date) -> Date? {
        guard let last = user.lastFailedAt else { return nil }
        let until = last.addingTimeInterval(accountDelay(failures: user.failedLogins))
        return until > now ? until : nil
    }
}

/// Random tokens, their hashes, and comparisons that take the same time whatever matches.
package enum Secrets {
    /// 32 random bytes, base64url without padding (a cookie- and form-safe string).
    package static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    package static func sha256(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Constant-time equality, for CSRF tokens and setup codes.
    package static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}

/// bcrypt at cost 11: about 0.1–0.2 s per check on the box's CPU (measured in docs/console.md),
/// slow enough against guessing from a stolen database, fast enough for a login.
package enum Passwords {
    package static let cost: UInt8 = 11
    package static let minimumLength = 8

    package static func hash(_ password: String) -> String { Bcrypt.hash(password, cost: cost) }

    package static func verify(_ password: String, hash: String) -> Bool { Bcrypt.verify(password, hash: hash) }

    /// Checked for an unknown login too, so the answer's time does not tell which logins exist.
    package static let decoy = Bcrypt.hash("decoy password, never valid", cost: cost)
}

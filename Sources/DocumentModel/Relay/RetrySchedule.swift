import Foundation

/// How the hub's answers are classed (docs/protocol.md "Errors") and when to try again.
///
/// Pure: the relay service passes in the answer, the attempt number, the time and a random
/// source; it gets back what to do. Tests need no sleeps and no network.
package enum RelayAnswerClass: Sendable, Equatable {
    case success
    /// 4xx except 408 and 429: the same request will never succeed; the document is rejected.
    case permanent
    /// 5xx, 408, 429, a broken connection, a time-out: try again later.
    case transient
    /// tus `409 offset_mismatch`: the one 4xx a box recovers from by itself (HEAD, continue).
    case offsetMismatch

    /// `errorCode`: the code of the hub's error body, as sent.
    package static func of(status: Int, errorCode: String?) -> RelayAnswerClass {
        of(status: status, code: errorCode.flatMap(RelayErrorCode.init(rawValue:)))
    }

    package static func of(status: Int, code: RelayErrorCode?) -> RelayAnswerClass {
        switch status {
        case 200..<300: return .success
        case 409 where code == .offsetMismatch: return .offsetMismatch
        case 408, 429: return .transient
        case 400..<500: return .permanent
        default: return .transient  // 5xx and anything unexpected (1xx, 3xx): never give up on those
        }
    }
}

/// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and
/// Jitter"): the wait before attempt n+1 is uniform in [0, min(cap, base·2ⁿ)], so boxes that lost
/// the link together do not come back together. A `Retry-After` from the hub is a floor.
package struct RetrySchedule: Sendable, Equatable {
    package var base: Duration
    package var cap: Duration

    package init(base: Duration = .seconds(2), cap: Duration = .seconds(600)) {
        self.base = base
        self.cap = cap
    }

    /// `failures`: how many attempts in a row have failed (1 after the first failure).
    /// `unit`: a number in [0, 1) from the caller's random source.
    package func delay(failures: Int, retryAfter: Duration?, unit: Double) -> Duration {
        let exponent = min(max(failures - 1, 0), 40)  // 2^40 · base is beyond any cap: no overflow
        let ceiling = min(cap, base * Double(1 << exponent))
        let jittered = ceiling * min(max(unit, 0), 1)
        guard let retryAfter else { return jittered }
        return max(jittered, retryAfter)
    }

    package func delay(failures: Int, retryAfter: Duration?, using random: inout some RandomNumberGenerator) -> Duration {
        delay(failures: failures, retryAfter: retryAfter, unit: Double.random(in: 0..<1, using: &random))
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Anything else is ignored
/// (nil), as the RFC lets a recipient do.
package enum RetryAfter {
    package static func parse(_ value: String?, now: Date) -> Duration? {
        guard let text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) {
            guard let seconds = Int64(text) else { return nil }
            return .seconds(seconds)
        }
        guard let date = httpDate(text) else { return nil }
        return .seconds(max(0, Int64(date.timeIntervalSince(now).rounded(.up))))
    }

    /// An HTTP date (`Retry-After`, `Date`) in IMF-fixdate, the one form senders must use.
    package static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text.trimmingCharacters(in: .whitespaces))
    }
}

/// Whether to send a VERIFY, decided before any try is spent. Government tokens lock after three
/// wrong PINs and unlocking costs a trip to the provider, so: read the tries left first (a VERIFY
/// without data costs nothing), never spend the last try unless the person explicitly says so,
/// never retry by itself.
package enum PINPolicy {
    package enum Decision: Sendable, Equatable {
        case proceed
        /// One try left: refuse unless forced, and say why.
        case refuseLastTry
        /// No tries left: the token is blocked; only the PUK (its provider) can unblock it.
        case blocked
    }

    /// - Parameter status: the answer to the retry-counter query (`VERIFY` with no data).
    static func decide(status: StatusWord, force: Bool) -> Decision {
        switch status {
        case .authenticationBlocked, .pinIncorrect(triesLeft: 0):
            return .blocked
        case .pinIncorrect(triesLeft: 1):
            return force ? .proceed : .refuseLastTry
        default:
            // 63Cx with x ≥ 2, or 9000 (already verified), or a card that does not say.
            return .proceed
        }
    }
}

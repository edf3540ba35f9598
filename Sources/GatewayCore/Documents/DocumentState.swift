/// The outbound lifecycle and the only transitions the store allows.
///
/// `received → awaiting_signature → signed → queued → sending → delivered`, with side exits
/// `rejected` (a permanent refusal that needs a person) and `quarantined` (the content cannot be
/// trusted or read). Every transition is written to the audit trail with its time and cause.
package enum DocumentState: String, Sendable, Codable, CaseIterable {
    case received
    case awaitingSignature = "awaiting_signature"
    case signed
    case queued
    case sending
    case delivered
    case rejected
    case quarantined

    /// States a running stage holds a document in; after a crash they are resumed at startup.
    package var isTransient: Bool { self == .received || self == .sending }

    package var isTerminal: Bool { self == .delivered || self == .rejected || self == .quarantined }

    /// The states this one may move to. Quarantine is reachable from everywhere but itself:
    /// the consistency check must be able to set aside any document whose content went bad.
    package var allowedNextStates: Set<DocumentState> {
        var next: Set<DocumentState>
        switch self {
        case .received: next = [.awaitingSignature, .signed, .rejected]
        case .awaitingSignature: next = [.signed, .rejected]
        case .signed: next = [.queued, .rejected]
        case .queued: next = [.sending, .rejected]
        case .sending: next = [.delivered, .queued, .rejected]  // queued: retry or crash recovery
        case .delivered, .rejected, .quarantined: next = []
        }
        if self != .quarantined { next.insert(.quarantined) }
        return next
    }

    package func canMove(to next: DocumentState) -> Bool { allowedNextStates.contains(next) }
}

/// Refusal of a transition the lifecycle does not allow: a programming error in a stage, kept
/// as an error (not a crash) so the daemon goes on with the other documents.
package struct IllegalTransition: Error, Sendable, CustomStringConvertible {
    package let from: DocumentState
    package let to: DocumentState
    package var description: String { "illegal document transition \(from.rawValue) → \(to.rawValue)" }
}

extension DocumentState {
    /// The state a freshly received document moves to once it is durable.
    package static func afterIntake(alreadySigned: Bool) -> DocumentState {
        alreadySigned ? .signed : .awaitingSignature
    }
}

import SigningPolicy

/// The outbound lifecycle and the only transitions the store allows.
///
/// `received → awaiting_leader → awaiting_seal → signed → queued → sending → delivered`: the
/// leader signs first, the văn thư numbers and seals after (Decree 30/2020 Art. 13, 15); a
/// document that needs the organization's signature only starts at `awaiting_seal`, one that
/// arrived signed at `signed`. Before it is signed a person can act: the leader returns it to the
/// clerk (`returned`, to be replaced or withdrawn), the clerk withdraws it (`withdrawn`). Side
/// exits `rejected` (a permanent refusal that needs a person) and `quarantined` (the content
/// cannot be trusted or read). Every transition is written to the audit trail with its time and
/// cause (who, when, why).
package enum DocumentState: String, Sendable, Codable, CaseIterable {
    case received
    case awaitingLeader = "awaiting_leader"
    case awaitingSeal = "awaiting_seal"
    case returned
    case signed
    case queued
    case sending
    case delivered
    case withdrawn
    case rejected
    case quarantined

    /// States a running stage holds a document in; after a crash they are resumed at startup.
    package var isTransient: Bool { self == .received || self == .sending }

    package var isTerminal: Bool { self == .delivered || self == .withdrawn || self == .rejected || self == .quarantined }

    /// Waiting for a signature or for the clerk: the states in which a person may still act on
    /// the document (return, withdraw).
    package var isBeforeSigning: Bool { self == .awaitingLeader || self == .awaitingSeal || self == .returned }

    /// The states this one may move to. Quarantine is reachable from everywhere but itself:
    /// the consistency check must be able to set aside any document whose content went bad.
    package var allowedNextStates: Set<DocumentState> {
        var next: Set<DocumentState>
        switch self {
        case .received: next = [.awaitingLeader, .awaitingSeal, .signed, .rejected]
        case .awaitingLeader: next = [.awaitingSeal, .returned, .withdrawn, .rejected]
        case .awaitingSeal: next = [.signed, .returned, .withdrawn, .rejected]
        // Back into the flow when the clerk replaces the file, or withdrawn for good.
        case .returned: next = [.awaitingLeader, .awaitingSeal, .withdrawn]
        case .signed: next = [.queued, .rejected]
        case .queued: next = [.sending, .rejected]
        case .sending: next = [.delivered, .queued, .rejected]  // queued: retry or crash recovery
        case .delivered, .withdrawn, .rejected, .quarantined: next = []
        }
        if self != .quarantined { next.insert(.quarantined) }
        return next
    }

    package func canMove(to next: DocumentState) -> Bool { allowedNextStates.contains(next) }

    /// The store's state for where the signing flow stands.
    package init(_ flow: SigningFlow.State) {
        switch flow {
        case .awaitingLeader: self = .awaitingLeader
        case .awaitingSeal: self = .awaitingSeal
        case .signed: self = .signed
        }
    }
}

/// Refusal of a transition the lifecycle does not allow: a programming error in a stage, kept
/// as an error (not a crash) so the daemon goes on with the other documents.
package struct IllegalTransition: Error, Sendable, CustomStringConvertible {
    package let from: DocumentState
    package let to: DocumentState
    package var description: String { "illegal document transition \(from.rawValue) → \(to.rawValue)" }
}

extension DocumentState {
    /// The state a freshly received document moves to once it is durable: `signed` when it
    /// arrived signed, else the first signature its metadata asks for.
    package static func afterIntake(_ metadata: DocumentMetadata) -> DocumentState {
        metadata.signed ? .signed : DocumentState((try? metadata.signingFlow())?.state ?? .awaitingLeader)
    }
}

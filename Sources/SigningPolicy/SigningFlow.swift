/// Which signatures a document needs and where it stands: the leader's first, the
/// organization's seal last (Decree 30/2020 Art. 13 and 15: the number and date are given when
/// the văn thư seals). Plain values in, the next state or a refusal out; the store applies it.
package struct SigningFlow: Hashable, Sendable {
    /// The states of the signing part of the lifecycle, spelled as the store will.
    package enum State: String, Sendable, Hashable, CaseIterable {
        case awaitingLeader = "awaiting_leader"
        case awaitingSeal = "awaiting_seal"
        case signed
    }

    /// The document's own signatures, in the order they are made.
    package static let order: [SigningRole] = [.leader, .organization]

    /// What the document needs, in signing order.
    package let required: [SigningRole]
    /// What it already has.
    package private(set) var done: [SigningRole]

    /// From the metadata's `"signatures"` (nil: absent, then `defaults` from `[signing]`).
    /// The organization's signature is always needed: it carries the number and date from the
    /// register and signs the envelope; a document needs it alone when a leader signed elsewhere.
    package init(signatures: [String]?, defaults: [SigningRole] = [.leader, .organization],
                 done: [SigningRole] = []) throws(SigningRefusal) {
        var roles: [SigningRole] = []
        for word in signatures ?? defaults.map(\.rawValue) {
            guard let role = SigningRole(rawValue: word.trimmingCharacters(in: .whitespaces).lowercased()),
                  Self.order.contains(role) else {
                throw Self.badList("\"\(word)\" không phải chữ ký của văn bản (leader, organization)",
                                   "\"\(word)\" is not a document signature (leader, organization)")
            }
            guard !roles.contains(role) else {
                throw Self.badList("\"\(word)\" ghi hai lần", "\"\(word)\" is named twice")
            }
            roles.append(role)
        }
        guard roles.contains(.organization) else {
            throw Self.badList("văn bản đi luôn cần chữ ký số của cơ quan (organization): số, ngày và dấu được cho khi đóng dấu",
                               "an outgoing document always needs the organization's signature (organization): its number, date and seal come with it")
        }
        self.required = Self.order.filter(roles.contains)
        self.done = []
        for role in done { try record(role) }
    }

    private static func badList(_ vietnamese: String, _ english: String) -> SigningRefusal {
        SigningRefusal(.badSignatureList, "\"signatures\": " + vietnamese, "\"signatures\": " + english)
    }

    /// Where the document waits: the first required signature it lacks.
    package var state: State {
        switch required.first(where: { !done.contains($0) }) {
        case .leader: .awaitingLeader
        case .organization: .awaitingSeal
        default: .signed
        }
    }

    /// Checks that a signature in `role` may be made now, without recording it.
    package func check(_ role: SigningRole) throws(SigningRefusal) {
        guard Self.order.contains(role) else {
            throw SigningRefusal(.notADocumentSignature,
                                 "vai \(role.rawValue) ký phụ lục/bản sao, không phải chữ ký của văn bản",
                                 "the \(role.rawValue) role signs attachments or copies, not the document itself")
        }
        guard !done.contains(role) else {
            throw SigningRefusal(.alreadySigned, "văn bản đã được ký ở vai \(role.rawValue)",
                                 "the document is already signed in the \(role.rawValue) role")
        }
        guard required.contains(role) else {
            throw SigningRefusal(.signatureNotRequired, "văn bản không cần chữ ký ở vai \(role.rawValue) (theo \"signatures\")",
                                 "the document does not need a signature in the \(role.rawValue) role (per \"signatures\")")
        }
        if role == .organization, required.contains(.leader), !done.contains(.leader) {
            throw SigningRefusal(.sealBeforeLeader, "chưa có chữ ký của lãnh đạo: không đóng dấu trước khi lãnh đạo ký",
                                 "the leader has not signed yet: the seal cannot come before the leader's signature")
        }
    }

    /// Records a signature in `role`; the new `state` is where the document goes next.
    @discardableResult
    package mutating func record(_ role: SigningRole) throws(SigningRefusal) -> State {
        try check(role)
        done.append(role)
        return state
    }

    /// The state after a signature in `role`, leaving `self` as it is.
    package func after(_ role: SigningRole) throws(SigningRefusal) -> SigningFlow {
        var next = self
        try next.record(role)
        return next
    }
}

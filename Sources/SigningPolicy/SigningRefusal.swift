/// Why the signing stage refuses: a stable code for the API and tests, and a message in
/// Vietnamese and English that tells the clerk (or the technician) what to do.
package struct SigningRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable, CaseIterable {
        // Whose certificate (SignerIdentity).
        case noIdentifier = "certificate-no-identifier"
        case malformedIdentifier = "certificate-identifier-malformed"
        // Who may sign in which role (SignerCheck).
        case organizationInLeaderSession = "organization-certificate-in-leader-session"
        case leaderNotConfigured = "leader-not-configured"
        case personInSealSession = "person-certificate-in-seal-session"
        case otherOrganization = "other-organization"
        case organizationNotConfigured = "organization-identity-not-configured"
        case notYetValid = "certificate-not-yet-valid"
        case expired = "certificate-expired"
        case keyUsage = "certificate-key-usage"
        case revoked = "certificate-revoked"
        case revocationRequired = "revocation-not-checked"
        // Which signatures a document needs (SigningFlow).
        case badSignatureList = "signatures-invalid"
        case notADocumentSignature = "role-not-a-document-signature"
        case signatureNotRequired = "signature-not-required"
        case sealBeforeLeader = "seal-before-leader"
        case alreadySigned = "already-signed"
        // The register (OutgoingRegister).
        case missingNotation = "register-notation-missing"
        case registerClockBehind = "register-date-before-last-number"
        // The clock (ClockSynchronisation).
        case clockNotSynchronised = "clock-not-synchronised"
        case clockStateUnknown = "clock-state-unknown"
    }

    package let code: Code
    package let vietnamese: String
    package let english: String

    package init(_ code: Code, _ vietnamese: String, _ english: String) {
        self.code = code
        self.vietnamese = vietnamese
        self.english = english
    }

    /// One line as the CLI, the API and the document's history show it.
    package var message: String { "\(vietnamese) / \(english)" }
    package var description: String { "\(code.rawValue): \(message)" }
}

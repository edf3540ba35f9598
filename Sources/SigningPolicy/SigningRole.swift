/// The roles a signature is made in (Decree 30/2020 Appendix I), with the words the metadata,
/// the configuration and `gatewayd sign --role` use.
package enum SigningRole: String, Sendable, Hashable, CaseIterable, Codable {
    /// The competent person (người có thẩm quyền), with their personal certificate.
    case leader
    /// The organization's seal on the document, with the organization's certificate.
    case organization
    /// The organization's signature on an attachment (phụ lục).
    case attachment
    /// The organization's signature on a copy (bản sao).
    case copy

    /// Whose certificate signs in this role: only `leader` is a person's.
    package var signer: SignerIdentity.Kind { self == .leader ? .person : .organization }
}

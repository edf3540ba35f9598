import DocumentModel
import Foundation
import X509

/// A leader as `[[signing.leaders]]` names them: by the identifier in their certificate's
/// subject, not by a fingerprint, so a renewed certificate still signs.
package struct ConfiguredLeader: Hashable, Sendable {
    package var name: String
    /// "CHỦ TỊCH", "PHÓ CHỦ TỊCH": written under the signature, and the text anchor to place it.
    package var title: String
    package var identity: SubjectIdentifier
    /// PNG of their handwritten signature, drawn in the leader's appearance.
    package var signatureImage: String?

    package init(name: String, title: String, identity: SubjectIdentifier, signatureImage: String? = nil) {
        (self.name, self.title, self.identity, self.signatureImage) = (name, title, identity, signatureImage)
    }
}

/// This commune, as `[agency]` describes it: what an organization certificate must name.
package struct SigningAgency: Hashable, Sendable {
    package var code: AgencyCode?
    package var name: String?
    /// `[agency] tax_code`: the MST a CA writes in the commune's organization certificate.
    package var taxCode: String?
    /// `[agency] budget_code`: the MNS some CAs write instead of an MST for a budget unit.
    package var budgetCode: String?

    package init(code: AgencyCode? = nil, name: String? = nil, taxCode: String? = nil, budgetCode: String? = nil) {
        (self.code, self.name, self.taxCode, self.budgetCode) = (code, name, taxCode, budgetCode)
    }

    /// Whether `identifier` is one of this commune's (nil: the commune has none of that kind configured).
    func owns(_ identifier: SubjectIdentifier) -> Bool? {
        switch identifier.kind {
        case .taxCode: taxCode.map { $0.trimmingCharacters(in: .whitespaces) == identifier.value }
        case .budgetCode: budgetCode.map { $0.trimmingCharacters(in: .whitespaces) == identifier.value }
        case .agencyCode: code.map { $0.rawValue == identifier.value }
        case .cccd, .cmnd, .passport: false
        }
    }
}

/// What revocation checking found, as `SigningCertificateCheck` (DocumentSigning) reports it;
/// the stage maps `RevocationStatus` to this, so the rules need no network code.
package enum RevocationFinding: Hashable, Sendable {
    case good
    case revoked(reason: String)
    /// A source was named but did not answer usably.
    case unknown(reason: String)
    /// Not asked: the certificate names no source, or the technician turned checking off.
    case notChecked

    package var word: String {
        switch self {
        case .good: "good"
        case .revoked: "revoked"
        case .unknown: "unknown"
        case .notChecked: "not-checked"
        }
    }
}

/// The certificate may sign: in which capacity, and what the clerk should still be told.
package struct SigningAuthorization: Hashable, Sendable {
    package enum Signatory: Hashable, Sendable {
        case leader(ConfiguredLeader)
        case organization
    }

    package var role: SigningRole
    package var signatory: Signatory
    package var signer: SignerIdentity
    /// Passed through as found: `unknown` stays unknown in the audit entry, never "good".
    package var revocation: RevocationFinding
    /// Lines to show even though signing goes ahead (revocation not confirmed).
    package var warnings: [String]
}

package enum SigningDecision: Hashable, Sendable {
    case allowed(SigningAuthorization)
    case refused(SigningRefusal)
}

/// Who may sign in which role: the certificate's kind against the session's role, the person
/// against the configured leaders or the organization against `[agency]`, then the certificate's
/// validity, key usage and revocation (docs/signing.md, "Who may sign").
package enum SignerCheck {
    package static func decide(role: SigningRole, certificate: Certificate, leaders: [ConfiguredLeader], agency: SigningAgency,
                               revocation: RevocationFinding, requireRevocation: Bool = false, now: Date) -> SigningDecision {
        do throws(SigningRefusal) {
            let signer = try SignerIdentity(certificate: certificate)
            let signatory = try signatory(role: role, signer: signer, leaders: leaders, agency: agency)
            try checkValidity(certificate, now: now)
            try checkKeyUsage(certificate)
            let warnings = try checkRevocation(revocation, required: requireRevocation)
            return .allowed(.init(role: role, signatory: signatory, signer: signer, revocation: revocation, warnings: warnings))
        } catch {
            return .refused(error)
        }
    }

    package static func signatory(role: SigningRole, signer: SignerIdentity, leaders: [ConfiguredLeader],
                          agency: SigningAgency) throws(SigningRefusal) -> SigningAuthorization.Signatory {
        switch (role.signer, signer.kind) {
        case (.person, .organization):
            throw SigningRefusal(.organizationInLeaderSession,
                                 "đây là chứng thư của tổ chức (\(signer.identifier)), không ký thay lãnh đạo được — hãy cắm token cá nhân của lãnh đạo",
                                 "this is an organization's certificate (\(signer.identifier)); it cannot sign as the leader: plug in the leader's own token")
        case (.person, .person):
            guard let leader = leaders.first(where: { signer.identifiers.contains($0.identity) }) else {
                throw SigningRefusal(.leaderNotConfigured,
                                     "\(signer.displayName) (\(signer.identifier)) không có trong danh sách lãnh đạo được ký ([[signing.leaders]])",
                                     "\(signer.displayName) (\(signer.identifier)) is not among the leaders allowed to sign ([[signing.leaders]])")
            }
            return .leader(leader)
        case (.organization, .person):
            throw SigningRefusal(.personInSealSession,
                                 "đây là chứng thư cá nhân của \(signer.displayName), không đóng dấu của cơ quan được — hãy cắm token của cơ quan",
                                 "this is \(signer.displayName)'s personal certificate; it cannot apply the organization's seal: plug in the organization's token")
        case (.organization, .organization):
            let owned = signer.identifiers.map(agency.owns)
            guard owned.contains(true) else {
                if owned.allSatisfy({ $0 == nil }) {
                    throw SigningRefusal(.organizationNotConfigured,
                                         "chưa cấu hình \(settingName(signer.identifier.kind)) của xã để so với chứng thư (\(signer.identifier)) — báo kỹ thuật viên",
                                         "the commune's \(settingName(signer.identifier.kind)) is not configured to compare with the certificate's (\(signer.identifier)): tell the technician")
                }
                throw otherOrganization(signer)
            }
            if let name = agency.name, ![signer.organizationName, signer.commonName].contains(where: { $0.map { NameMatch.same($0, name) } ?? false }) {
                throw otherOrganization(signer)
            }
            return .organization
        }
    }

    static func settingName(_ kind: SubjectIdentifier.Kind) -> String {
        switch kind {
        case .taxCode: "[agency] tax_code"
        case .budgetCode: "[agency] budget_code"
        default: "[agency] code"
        }
    }

    static func otherOrganization(_ signer: SignerIdentity) -> SigningRefusal {
        let name = signer.organizationName ?? signer.displayName
        return SigningRefusal(.otherOrganization,
                              "chứng thư của tổ chức khác (\(name), \(signer.identifier)), không phải của xã này — hãy cắm token của cơ quan mình",
                              "the certificate is another organization's (\(name), \(signer.identifier)), not this commune's: plug in this commune's token")
    }

    static func checkValidity(_ certificate: Certificate, now: Date) throws(SigningRefusal) {
        let format = Date.ISO8601FormatStyle(timeZone: TimeZone(secondsFromGMT: 7 * 3600)!)
        if now < certificate.notValidBefore {
            let from = format.format(certificate.notValidBefore)
            throw SigningRefusal(.notYetValid, "chứng thư chưa có hiệu lực (từ \(from)) — kiểm tra đồng hồ của hộp hoặc chờ đến ngày đó",
                                 "the certificate is not valid yet (from \(from)): check the box's clock or wait until then")
        }
        if now > certificate.notValidAfter {
            let until = format.format(certificate.notValidAfter)
            throw SigningRefusal(.expired, "chứng thư đã hết hạn (\(until)) — cần gia hạn chứng thư với nhà cung cấp",
                                 "the certificate has expired (\(until)): it must be renewed with its provider")
        }
    }

    /// No key usage extension allows every use (RFC 5280 §4.2.1.3); one without
    /// digitalSignature and nonRepudiation is not for signatures.
    static func checkKeyUsage(_ certificate: Certificate) throws(SigningRefusal) {
        let usage: KeyUsage?
        do { usage = try certificate.extensions.keyUsage } catch {
            throw SigningRefusal(.keyUsage, "không đọc được key usage của chứng thư", "the certificate's key usage cannot be read")
        }
        if let usage, !(usage.digitalSignature || usage.nonRepudiation) {
            throw SigningRefusal(.keyUsage, "chứng thư không dùng để ký (key usage thiếu digitalSignature/nonRepudiation) — token này không ký văn bản được",
                                 "the certificate is not for signatures (key usage has neither digitalSignature nor nonRepudiation): this token cannot sign documents")
        }
    }

    static func checkRevocation(_ finding: RevocationFinding, required: Bool) throws(SigningRefusal) -> [String] {
        switch finding {
        case .good:
            return []
        case .revoked(let reason):
            throw SigningRefusal(.revoked, "chứng thư ĐÃ BỊ THU HỒI (\(reason)) — không ký được, liên hệ nhà cung cấp",
                                 "the certificate is REVOKED (\(reason)): it cannot sign; contact its provider")
        case .unknown(let reason):
            let note = ("chưa xác định được tình trạng thu hồi (\(reason))", "revocation status unknown (\(reason))")
            if required {
                throw SigningRefusal(.revocationRequired, note.0 + " — cấu hình bắt buộc kiểm tra thu hồi; kiểm tra kết nối mạng",
                                     note.1 + ": the configuration requires it; check the network link")
            }
            return ["\(note.0) / \(note.1)"]
        case .notChecked:
            let note = ("không kiểm tra thu hồi", "revocation not checked")
            if required {
                throw SigningRefusal(.revocationRequired, note.0 + " — cấu hình bắt buộc kiểm tra thu hồi", note.1 + ": the configuration requires it")
            }
            return ["\(note.0) / \(note.1)"]
        }
    }
}

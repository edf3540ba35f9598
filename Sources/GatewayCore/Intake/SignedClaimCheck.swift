import DocumentSigning
import Foundation
import SigningPolicy
import TrustHTTP
import X509

/// A `"signed": true` claim checked at the door, not believed (issue 14): the document and each
/// attachment must carry intact signatures that chain to `[trust] anchors`, and the document the
/// signature of this commune's organization. One with a valid signature of a configured leader
/// and no seal is taken in to wait for the seal (`awaiting_seal`); anything else is refused with
/// the reason, and nothing of it is kept.
///
/// It judges with the same core as incoming documents (`IncomingVerifier`'s findings over
/// `DocumentVerifier`), so the box calls a signature valid for the same reasons at both ends.
///
/// Revocation: a signer found revoked is refused; a responder that cannot be reached does not
/// refuse — the box works offline for days, and the recipient checks every signature again on
/// arrival — and the document's history says that revocation was not confirmed.
package struct SignedClaimCheck: Sendable {
    package let verifier: IncomingVerifier
    package let leaders: [ConfiguredLeader]
    package let agency: SigningAgency

    package init(anchors: [Certificate], revocation: RevocationChecker?, leaders: [ConfiguredLeader], agency: SigningAgency) {
        verifier = IncomingVerifier(anchors: anchors, revocation: revocation)
        (self.leaders, self.agency) = (leaders, agency)
    }

    /// A staged file as it will be stored: where its bytes are now, and the name it came with.
    package struct File: Sendable {
        package var path: String
        package var name: String
        package init(path: String, name: String) { (self.path, self.name) = (path, name) }
    }

    package struct Outcome: Sendable, Equatable {
        /// Sealed by this commune's organization: it goes to `signed` and is queued for the hub.
        /// Otherwise signed by a configured leader only: it waits for the văn thư's seal session.
        package var sealed: Bool
        /// Whose valid signatures the document carries, in order ("Nguyễn Văn An (CCCD:…)").
        package var signers: [String]
        /// What the history should say besides (revocation not confirmed).
        package var notes: [String] = []
    }

    /// What the doors call before they commit: a document that claims nothing passes untouched;
    /// one that claims `signed` is checked, and one signed by a leader only has its metadata turned
    /// into "needs the organization's signature" (so it waits in `awaiting_seal`). Returns words
    /// for the intake's history line ("" when there is nothing to say).
    package func admit(_ metadata: inout DocumentMetadata, document: File, attachments: [File]) async throws(IntakeError) -> String {
        guard metadata.signed else { return "" }
        let outcome = try await check(document: document, attachments: attachments)
        var note = "; signatures checked at intake: " + outcome.signers.joined(separator: ", ")
        if !outcome.sealed {
            metadata.signed = false
            metadata.signatures = [.organization]
            note += "; signed by a leader, the seal is still to come"
        }
        return ([note] + outcome.notes).joined(separator: "; ")
    }

    /// No anchors: every claim is refused with the reason (what a door without a configuration gets).
    package static let unconfigured = SignedClaimCheck(anchors: [], revocation: nil, leaders: [], agency: SigningAgency())

    /// From `[trust]`, `[[signing.leaders]]` and `[agency]`; anchors that cannot be read are
    /// logged at start by the signing stage's loading (`CertificateStanding.anchors`).
    package init(configuration: GatewayConfiguration) {
        self.init(anchors: CertificateStanding.anchors(configuration.trust.anchors).certificates,
                  revocation: configuration.trust.checkRevocation ? RevocationChecker(fetcher: AsyncHTTPTrustFetcher(), cache: RevocationCache()) : nil,
                  leaders: configuration.signing.leaders, agency: configuration.signingAgency)
    }

    package func check(document: File, attachments: [File]) async throws(IntakeError) -> Outcome {
        guard !verifier.anchors.isEmpty else {
            throw IntakeError.signedClaimRefused(
                "hộp chưa cài gốc tin cậy ([trust] anchors) nên không kiểm tra được chữ ký — báo kỹ thuật viên",
                "no trust anchors are configured ([trust] anchors), so the signatures cannot be checked: tell the technician")
        }
        let signatureFiles = Dictionary(attachments.map { ($0.name, $0.path) }, uniquingKeysWith: { first, _ in first })
        var notes: [String] = []

        let main = try judged(document, await signatures(of: document, detached: signatureFiles[document.name + ".p7s"]), notes: &notes)
        let roles = main.compactMap(role)
        let sealed = roles.contains(.organization)
        if !sealed && !roles.contains(.leader) {
            let who = main.compactMap { $0.signer.map(IncomingVerifier.displayName) }.joined(separator: ", ")
            throw IntakeError.signedClaimRefused(
                "văn bản không có chữ ký số của cơ quan (\(identity)) hay của lãnh đạo trong danh sách ([[signing.leaders]]); người ký: \(who)",
                "the document carries neither this commune's organization signature (\(identity)) nor a configured leader's ([[signing.leaders]]); signed by: \(who)")
        }
        for attachment in attachments where !attachment.name.lowercased().hasSuffix(".p7s") {
            let found = await signatures(of: attachment, detached: signatureFiles[attachment.name + ".p7s"])
            // Waiting for the seal: the seal session signs the attachments (AttachmentSigning);
            // an unsigned one is expected, a broken signature is not.
            if found.isEmpty && !sealed { continue }
            _ = try judged(attachment, found, notes: &notes)
        }
        return Outcome(sealed: sealed, signers: main.compactMap { $0.signer.map(IncomingVerifier.displayName) }, notes: notes)
    }

    /// The signatures of one file, each valid — or the refusal naming the first that is not.
    func judged(_ file: File, _ signatures: [SignatureVerification], notes: inout [String]) throws(IntakeError) -> [SignatureVerification] {
        guard !signatures.isEmpty else {
            throw IntakeError.signedClaimRefused("tệp \"\(file.name)\" chưa được ký số", "the file \"\(file.name)\" is not digitally signed")
        }
        for signature in signatures {
            let finding = verifier.finding(file: file.name, signature)
            let who = finding.signer ?? "?"
            switch finding.outcome {
            case .valid:
                continue
            case .unknown where Self.onlyRevocationUnknown(signature):
                notes.append("chưa xác nhận được tình trạng thu hồi chứng thư của \(who) / the revocation of \(who)'s certificate could not be confirmed")
            case .unknown, .invalid:
                let reason = (finding.reason ?? "chữ ký không hợp lệ / the signature is invalid").split(separator: " / ", maxSplits: 1)
                throw IntakeError.signedClaimRefused(
                    "chữ ký của \(who) trên \"\(file.name)\" không hợp lệ: \(reason.first ?? "")",
                    "\(who)'s signature on \"\(file.name)\" is not valid: \(reason.count > 1 ? reason[1] : reason.first ?? "")")
            }
        }
        // A PDF whose last revision no signature covers was changed after it was signed.
        if let last = signatures.filter({ $0.coversWholeFile != nil }).max(by: { ($0.coveredRevision ?? 0) < ($1.coveredRevision ?? 0) }),
           last.coversWholeFile == false {
            throw IntakeError.signedClaimRefused(
                "tệp \"\(file.name)\" đã bị thêm nội dung sau chữ ký cuối cùng",
                "the file \"\(file.name)\" has content added after its last signature")
        }
        return signatures
    }

    func signatures(of file: File, detached: String?) async -> [SignatureVerification] {
        let anchors = verifier.anchors
        if FileSigning.isPDF(path: file.path),
           let report = try? await DocumentVerifier.verify(path: file.path, trustRoots: anchors, revocation: verifier.revocation),
           !report.signatures.isEmpty {
            return report.signatures
        }
        guard let detached else { return [] }
        return await DocumentVerifier.verifyDetached(signaturePath: detached, contentPath: file.path,
                                                     trustRoots: anchors, revocation: verifier.revocation).signatures
    }

    /// Everything held but revocation, which a responder out of reach left open.
    static func onlyRevocationUnknown(_ signature: SignatureVerification) -> Bool {
        signature.revocation == "unknown"
            && signature.checks.allSatisfy { $0.outcome != .failed || $0.name == "revocation" }
    }

    /// Whose signature a valid one is here: this commune's organization, a configured leader, or
    /// neither (nil — another person or organization, which neither seals nor waits for a seal).
    func role(_ signature: SignatureVerification) -> SigningRole? {
        guard let certificate = signature.signerCertificate, let signer = try? SignerIdentity(certificate: certificate) else { return nil }
        let role: SigningRole = signer.kind == .organization ? .organization : .leader
        return (try? SignerCheck.signatory(role: role, signer: signer, leaders: leaders, agency: agency)) != nil ? role : nil
    }

    /// The commune's identity as a certificate would carry it, for the refusal's words.
    var identity: String {
        agency.taxCode.map { "MST:\($0)" } ?? agency.budgetCode.map { "MNS:\($0)" } ?? agency.name ?? "?"
    }
}

extension IntakeError {
    static func signedClaimRefused(_ reasonVi: String, _ reasonEn: String) -> IntakeError {
        IntakeError(.signedClaimRefused,
                    vi: "Văn bản được ghi là đã ký (\"signed\": true) nhưng chữ ký không đạt: \(reasonVi). Văn bản chưa được tiếp nhận.",
                    en: "The document is marked signed (\"signed\": true) but its signatures do not pass: \(reasonEn). It was not accepted.")
    }
}

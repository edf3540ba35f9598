import Foundation
@_spi(FixedExpiryValidationTime) import X509

/// The checks on the signer's own certificate before anything is signed: validity period now,
/// key usage fit for signatures, chain to the installed trust anchors, revocation. A failure
/// refuses the signature with its reason; revocation that cannot be checked is reported as such
/// and, unless the technician asked to require it, does not stop the signature — an offline
/// commune box must still be able to sign (see docs/pades.md, "Checks before signing").
package enum SigningCertificateCheck {
    package struct Outcome: Sendable {
        package var checks: [VerificationCheck] = []
        package var revocation: RevocationStatus?
        /// Why signing is refused (Vietnamese / English); nil: sign.
        package var refusal: String?
        /// Lines to show the clerk even when signing goes ahead.
        package var warnings: [String] { checks.filter { $0.outcome != .passed }.map(\.message) }
    }

    /// `trustRoots` nil: the chain is not checked (no anchors installed) and that is a warning.
    /// `revocation` nil: revocation is not asked (the caller chose not to go on the network).
    package static func run(certificate: Certificate, intermediates: [Certificate], trustRoots: [Certificate]?,
                           revocation: RevocationChecker?, requireRevocation: Bool, now: Date = Date()) async -> Outcome {
        var outcome = Outcome()
        func refuse(_ check: VerificationCheck) {
            outcome.checks.append(check)
            if outcome.refusal == nil { outcome.refusal = check.message }
        }

        if now < certificate.notValidBefore {
            refuse(.init("validity-period", .failed, "chứng thư chưa có hiệu lực (từ \(VerificationFormat.iso8601(certificate.notValidBefore))) / "
                         + "the certificate is not valid yet (from \(VerificationFormat.iso8601(certificate.notValidBefore)))"))
        } else if now > certificate.notValidAfter {
            refuse(.init("validity-period", .failed, "chứng thư đã hết hạn (\(VerificationFormat.iso8601(certificate.notValidAfter))) / "
                         + "the certificate has expired (\(VerificationFormat.iso8601(certificate.notValidAfter)))"))
        } else {
            outcome.checks.append(.init("validity-period", .passed,
                                        "chứng thư còn hiệu lực đến \(VerificationFormat.iso8601(certificate.notValidAfter)) / valid until \(VerificationFormat.iso8601(certificate.notValidAfter))"))
        }

        switch Result(catching: { try certificate.extensions.keyUsage }) {
        case .success(let usage?) where !(usage.digitalSignature || usage.nonRepudiation):
            refuse(.init("key-usage", .failed, "chứng thư không dùng để ký (key usage thiếu digitalSignature/nonRepudiation) / "
                         + "the certificate is not for signatures (key usage has neither digitalSignature nor nonRepudiation)"))
        case .failure:
            refuse(.init("key-usage", .failed, "không đọc được key usage của chứng thư / the certificate's key usage cannot be read"))
        default:
            outcome.checks.append(.init("key-usage", .passed, "chứng thư dùng để ký / the certificate's key usage allows signatures"))
        }

        guard let trustRoots else {
            outcome.checks.append(.init("chain", .warning, "chưa cài gốc tin cậy (--trust), không kiểm tra chuỗi chứng thư / "
                                        + "no trust anchors installed (--trust): the chain is not checked"))
            if requireRevocation {
                refuse(.init("revocation", .failed, "cần gốc tin cậy để kiểm tra thu hồi / trust anchors are needed to check revocation"))
            }
            return outcome
        }
        var verifier = Verifier(rootCertificates: CertificateStore(trustRoots)) {
            RFC5280Policy(fixedExpiryValidationTime: now)
            SigningCertificateUsagePolicy()
        }
        switch await verifier.validate(leaf: certificate, intermediates: CertificateStore(intermediates)) {
        case .validCertificate(let chain):
            outcome.checks.append(.init("chain", .passed, "chuỗi chứng thư tới gốc tin cậy / chain to a trust anchor: \(chain.last.map { $0.subject.description } ?? "?")"))
        case .couldNotValidate(let failures):
            let reasons = failures.map { "\($0.policyFailureReason)" }.joined(separator: "; ")
            refuse(.init("chain", .failed, "chứng thư không dẫn tới gốc tin cậy đã cài / the certificate does not chain to an installed trust anchor"
                         + (reasons.isEmpty ? "" : " (\(RevocationChecker.shorten(reasons)))")))
            return outcome
        }

        guard let revocation else {
            if requireRevocation {
                refuse(.init("revocation", .failed, "--require-revocation và --no-revocation-check mâu thuẫn / --require-revocation contradicts --no-revocation-check"))
                return outcome
            }
            outcome.checks.append(.init("revocation", .warning, "không kiểm tra thu hồi (--no-revocation-check) / revocation not checked (--no-revocation-check)"))
            return outcome
        }
        let status = await revocation.status(of: certificate, roots: trustRoots, intermediates: intermediates, chainTime: now, now: now)
        outcome.revocation = status
        switch status {
        case .good:
            outcome.checks.append(status.check)
        case .revoked:
            refuse(status.check)
        case .unknown, .noSource:
            if requireRevocation {
                refuse(.init("revocation", .failed, status.check.message + " — bắt buộc kiểm tra thu hồi (--require-revocation) / revocation is required (--require-revocation)"))
            } else {
                outcome.checks.append(.init("revocation", .warning, status.check.message))
            }
        }
        return outcome
    }
}

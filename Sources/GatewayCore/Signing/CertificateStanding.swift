import DocumentSigning
import Foundation
import SigningPolicy
import X509

/// What was found about a token's certificate before a session, beyond the signing rules: its
/// chain to the `[trust]` anchors and its revocation (OCSP/CRL, asked only for a chain that
/// reaches an anchor). The rules (`SignerCheck`) then judge the role with the revocation as found.
package struct CertificateStanding: Sendable, Equatable {
    package var revocation: RevocationFinding
    /// Why this certificate may sign nothing here (it does not chain to an anchor).
    package var refusal: String?
    /// Told to the person although signing goes ahead.
    package var warnings: [String]

    package init(revocation: RevocationFinding, refusal: String? = nil, warnings: [String] = []) {
        (self.revocation, self.refusal, self.warnings) = (revocation, refusal, warnings)
    }

    /// No anchors configured: nothing can be checked, and the session says so.
    package static let unchecked = CertificateStanding(
        revocation: .notChecked,
        warnings: ["chưa cài gốc tin cậy ([trust] anchors): không kiểm tra chuỗi chứng thư / no trust anchors ([trust] anchors): the chain is not checked"])

    /// The chain (leaf first, as the token gives it) against `anchors`, and revocation through
    /// `fetcher` unless it is nil (`[trust] check_revocation = false`).
    package static func check(chain: [Certificate], anchors: [Certificate], fetcher: (any TrustFetcher)?, now: Date) async -> CertificateStanding {
        guard !anchors.isEmpty, let leaf = chain.first else { return .unchecked }
        let outcome = await SigningCertificateCheck.run(
            certificate: leaf, intermediates: Array(chain.dropFirst()), trustRoots: anchors,
            revocation: fetcher.map { RevocationChecker(fetcher: $0) }, requireRevocation: false, now: now)
        // Validity and key usage are the rules' to judge (with their own messages); the chain is ours.
        let chainFailure = outcome.checks.first { $0.name == "chain" && $0.outcome == .failed }?.message
        let finding: RevocationFinding = switch outcome.revocation {
        case .good: .good
        case .revoked(let reason): .revoked(reason: reason)
        case .unknown(let reason): .unknown(reason: reason)
        case .noSource, nil: .notChecked
        }
        let warnings = outcome.checks.filter { $0.outcome == .warning && $0.name != "revocation" }.map(\.message)
        return CertificateStanding(revocation: finding, refusal: chainFailure, warnings: warnings)
    }
}

extension CertificateStanding {
    /// The certificates of `[trust] anchors`; a file that cannot be read is in `problems` (logged
    /// at start and shown by `config check`): signing then goes on without that root.
    package static func anchors(_ paths: [String]) -> (certificates: [Certificate], problems: [String]) {
        var certificates: [Certificate] = []
        var problems: [String] = []
        for path in paths {
            do { certificates += try DocumentVerifier.trustAnchors(pemFile: path) } catch {
                problems.append("[trust] anchors: \(path): \(error)")
            }
        }
        return (certificates, problems)
    }
}

import Foundation
import SwiftASN1
import X509

/// Revocation answers already had, reused for `lifetime`: a province's documents come from a few
/// signers, so a hundred documents cost two questions to their responder, not two hundred
/// (docs/PERFORMANCE.md, "Verification of what arrives"). Only definite answers are kept — good
/// or revoked — so a responder that could not be reached is asked again next time, and a
/// "could not be checked" verdict can become valid as soon as it answers.
///
/// The price: a certificate revoked after a "good" answer is reported good for up to `lifetime`
/// more. Responders themselves sign answers valid for hours or days (their nextUpdate), so an
/// hour adds little to what a relying party already accepts.
package final class RevocationCache: @unchecked Sendable {
    package let lifetime: Duration
    let capacity: Int
    private let lock = NSLock()
    private var entries: [String: (status: RevocationStatus, until: Date)] = [:]

    package init(lifetime: Duration = .seconds(3600), capacity: Int = 4096) {
        (self.lifetime, self.capacity) = (lifetime, capacity)
    }

    /// The answer's key: the certificate and the anchors it was judged against (a "good" under
    /// one set of roots says nothing under another).
    static func key(_ leaf: Certificate, roots: [Certificate]) -> String? {
        guard let leafBytes = try? DER.encode(leaf) else { return nil }
        var text = VerificationDigest.sha256.hash(leafBytes).map { String(format: "%02x", $0) }.joined()
        for root in roots {
            guard let bytes = try? DER.encode(root) else { return nil }
            text += ":" + VerificationDigest.sha256.hash(bytes).prefix(8).map { String(format: "%02x", $0) }.joined()
        }
        return text
    }

    func status(for key: String, now: Date) -> RevocationStatus? {
        lock.withLock {
            guard let entry = entries[key] else { return nil }
            if entry.until < now {
                entries[key] = nil
                return nil
            }
            return entry.status
        }
    }

    func store(_ status: RevocationStatus, for key: String, now: Date) {
        switch status {
        case .good, .revoked: break
        case .unknown, .noSource: return
        }
        lock.withLock {
            // Bounded: when full, the entries past their time go first, then the oldest half.
            if entries.count >= capacity {
                entries = entries.filter { $0.value.until >= now }
                if entries.count >= capacity {
                    let kept = entries.sorted { $0.value.until > $1.value.until }.prefix(capacity / 2)
                    entries = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
                }
            }
            entries[key] = (status, now.addingTimeInterval(Double(lifetime.components.seconds)))
        }
    }

    package var count: Int { lock.withLock { entries.count } }
}

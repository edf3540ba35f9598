import Foundation
import Synchronization

/// Attachments posted before their document on the local API (docs/local-api.md,
/// "Attachments"): each one's body is staged under `store/tmp/` as it streams in, held here by the
/// submission's `Idempotency-Key` and its name, and committed with the document that names it,
/// in the document's one store commit. Nothing here is acknowledged as stored: a restart empties
/// `store/tmp/` and forgets them (the client posts them again), and one not claimed within
/// `lifetime` is discarded at the next upload or submission — no timer runs for them.
final class AttachmentUploads: Sendable {
    private struct Upload {
        var staged: StagedDocument
        var at: ContinuousClock.Instant
    }

    /// By key, then by name (NFC).
    private let uploads = Mutex<[String: [String: Upload]]>([:])
    static let lifetime: Duration = .seconds(3600)
    /// Files staged at once, all keys together: each holds a descriptor and space in `store/tmp/`.
    static let maximumStaged = 200

    /// Holds `staged` as attachment `name` of the submission `key`, replacing an earlier one of
    /// that name. Refused (and discarded) when too many are waiting.
    func put(_ staged: StagedDocument, key: String, name: String, now: ContinuousClock.Instant = .now) throws(APIError) {
        var dropped: [StagedDocument] = []
        defer { for file in dropped { file.discard() } }
        let accepted = uploads.withLock { uploads in
            dropped = Self.expire(&uploads, now: now)
            let total = uploads.values.reduce(0) { $0 + $1.count }
            if uploads[key]?[name] == nil, total >= Self.maximumStaged || (uploads[key]?.count ?? 0) >= MetadataLimits.attachments {
                return false
            }
            if let earlier = uploads[key]?[name] { dropped.append(earlier.staged) }
            uploads[key, default: [:]][name] = Upload(staged: staged, at: now)
            return true
        }
        guard accepted else {
            dropped.append(staged)
            throw APIError(status: .tooManyRequests, code: "too_many_attachments",
                           vi: "Quá nhiều tệp đính kèm đang chờ văn bản của chúng: hãy gửi văn bản, hoặc chờ rồi gửi lại",
                           en: "Too many attachments are waiting for their documents: post the document, or wait and try again")
        }
    }

    /// The attachments of submission `key` named `names`, in that order, taken out of the holding
    /// (they are the document's now); or the names missing, and nothing taken.
    func take(key: String, names: [String], now: ContinuousClock.Instant = .now) -> Result<[StagedDocument], IntakeError> {
        var dropped: [StagedDocument] = []
        defer { for file in dropped { file.discard() } }
        return uploads.withLock { uploads in
            dropped = Self.expire(&uploads, now: now)
            let held = uploads[key] ?? [:]
            let missing = names.filter { held[$0] == nil }
            guard missing.isEmpty else { return .failure(IntakeError.missingAttachments(missing)) }
            // Files posted under the key but not named by the document are not its: dropped.
            dropped += held.filter { !names.contains($0.key) }.map(\.value.staged)
            uploads[key] = nil
            return .success(names.map { held[$0]!.staged })
        }
    }

    private static func expire(_ uploads: inout [String: [String: Upload]], now: ContinuousClock.Instant) -> [StagedDocument] {
        var dropped: [StagedDocument] = []
        for (key, files) in uploads {
            let kept = files.filter { now - $0.value.at < lifetime }
            dropped += files.filter { now - $0.value.at >= lifetime }.map(\.value.staged)
            uploads[key] = kept.isEmpty ? nil : kept
        }
        return dropped
    }
}

import DocumentModel
import Foundation
import TimeJSON
import X509

/// The outcome of verifying a signed document: one result per signature and an overall verdict,
/// each in Vietnamese and English, as text for a clerk or JSON to store with the document.
package enum Verdict: String, Codable, Sendable, Comparable {
    case valid, untrusted, indeterminate, invalid

    /// Worse verdicts sort later, so the overall one is the maximum.
    private var severity: Int {
        switch self {
        case .valid: 0
        case .indeterminate: 1
        case .untrusted: 2
        case .invalid: 3
        }
    }
    package static func < (left: Verdict, right: Verdict) -> Bool { left.severity < right.severity }

    package var label: String {
        switch self {
        case .valid: "hợp lệ / valid"
        case .invalid: "không hợp lệ / invalid"
        case .untrusted: "không tin cậy được / untrusted"
        case .indeterminate: "chưa xác định được / indeterminate"
        }
    }
}

package struct VerificationCheck: Codable, Sendable, Equatable {
    package enum Outcome: String, Codable, Sendable {
        case passed, failed, notChecked = "not-checked", warning
    }
    /// A stable key for programs: integrity, signature, signing-certificate, chain, validity-period,
    /// coverage, algorithm, revocation, format.
    package let name: String
    package let outcome: Outcome
    /// "Vietnamese / English".
    package let message: String

    package init(_ name: String, _ outcome: Outcome, _ message: String) {
        self.name = name
        self.outcome = outcome
        self.message = message
    }
}

package struct SignatureVerification: Codable, Sendable {
    /// The PDF field name, or the `.p7s` file name.
    package var name: String
    package var signer: String?
    package var signingTime: Date?
    /// Where the signing time comes from: "cms-signing-time", "pdf-M", or nil.
    package var signingTimeSource: String?
    package var digestAlgorithm: String?
    package var signatureAlgorithm: String?
    /// For PDFs: the revision the signature covers (1-based, counting `%%EOF` markers) and how many the file has.
    package var coveredRevision: Int?
    package var totalRevisions: Int?
    package var coversWholeFile: Bool?
    /// The time of a valid signature timestamp (RFC 3161), when there is one.
    package var timestampTime: Date?
    /// good, revoked, unknown or not-checked.
    package var revocation: String?
    package var checks: [VerificationCheck] = []
    package var verdict: Verdict = .indeterminate
    /// The signer's certificate itself, for callers that judge whose signature it is (intake's
    /// organization or leader); not part of the JSON report, which names the signer by `signer`.
    package var signerCertificate: Certificate?

    package init(name: String) { self.name = name }

    enum CodingKeys: String, CodingKey {
        case name, signer, signingTime, signingTimeSource, digestAlgorithm, signatureAlgorithm, coveredRevision,
             totalRevisions, coversWholeFile, timestampTime, revocation, checks, verdict
    }

    /// The verdict from the checks: a failed integrity, signature or certificate binding is
    /// invalid; a failed chain is untrusted; anything else not established is indeterminate.
    mutating func decide() {
        func failed(_ names: Set<String>) -> Bool { checks.contains { names.contains($0.name) && $0.outcome == .failed } }
        // A revoked certificate: without a timestamp earlier than the revocation nothing shows
        // the signature was made before it, so the signature is not accepted.
        if failed(["format", "integrity", "signature", "signing-certificate", "byte-range"]) || revocation == "revoked" {
            verdict = .invalid
        } else if failed(["chain"]) {
            verdict = .untrusted
        } else if failed(["algorithm", "validity-period", "coverage-unsupported", "timestamp", "revocation"]) ||
                    checks.contains(where: { ["integrity", "signature"].contains($0.name) && $0.outcome != .passed }) {
            verdict = .indeterminate
        } else {
            verdict = .valid
        }
    }
}

package struct DocumentVerification: Codable, Sendable {
    package var file: String
    package var kind: String
    package var trustAnchorsGiven: Bool
    package var signatures: [SignatureVerification]
    package var verdict: Verdict
    /// Document-level notes (no signatures, unsupported parts).
    package var notes: [String]

    package init(file: String, kind: String, trustAnchorsGiven: Bool, signatures: [SignatureVerification], notes: [String] = []) {
        self.file = file
        self.kind = kind
        self.trustAnchorsGiven = trustAnchorsGiven
        self.signatures = signatures
        self.notes = notes
        self.verdict = signatures.map(\.verdict).max() ?? .indeterminate
        if signatures.isEmpty { self.notes.append("không có chữ ký nào / the document has no signatures") }
    }

    /// Exit status 0 only when there are signatures and every one is valid (and, with trust
    /// anchors, trusted — a failed chain already makes the verdict untrusted).
    package var allValid: Bool { !signatures.isEmpty && signatures.allSatisfy { $0.verdict == .valid } }

    package func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    package var text: String {
        var lines = ["Tệp / File: \(file) (\(kind))"]
        for (index, signature) in signatures.enumerated() {
            lines.append("")
            lines.append("Chữ ký / Signature \(index + 1): \(signature.name) — \(signature.verdict.label)")
            if let signer = signature.signer { lines.append("  Người ký / Signer: \(signer)") }
            if let time = signature.signingTime {
                lines.append("  Thời điểm ký / Signing time: \(VerificationFormat.iso8601(time)) (\(signature.signingTimeSource ?? "?"))")
            }
            if let time = signature.timestampTime {
                lines.append("  Dấu thời gian / Timestamp: \(VerificationFormat.iso8601(time)) (RFC 3161)")
            }
            for check in signature.checks {
                let mark = switch check.outcome {
                case .passed: "[ok]"
                case .failed: "[FAIL]"
                case .notChecked: "[--]"
                case .warning: "[!]"
                }
                lines.append("  \(mark) \(check.message)")
            }
        }
        lines.append("")
        for note in notes { lines.append(note) }
        lines.append("Kết luận / Overall: \(verdict.label)")
        return lines.joined(separator: "\n")
    }
}

enum VerificationFormat {
    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = GatewayJSON.vietnamTime
        return formatter.string(from: date)
    }
}

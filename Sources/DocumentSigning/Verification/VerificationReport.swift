import DocumentModel
import Foundation

/// The outcome of verifying a signed document: one result per signature and an overall verdict,
/// each in Vietnamese and English, as text for a clerk or JSON to store with the document.
public enum Verdict: String, Codable, Sendable, Comparable {
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
    public static func < (left: Verdict, right: Verdict) -> Bool { left.severity < right.severity }

    public var label: String {
        switch self {
        case .valid: "hợp lệ / valid"
        case .invalid: "không hợp lệ / invalid"
        case .untrusted: "không tin cậy được / untrusted"
        case .indeterminate: "chưa xác định được / indeterminate"
        }
    }
}

public struct VerificationCheck: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        case passed, failed, notChecked = "not-checked", warning
    }
    /// A stable key for programs: integrity, signature, signing-certificate, chain, validity-period,
    /// coverage, algorithm, revocation, format.
    public let name: String
    public let outcome: Outcome
    /// "Vietnamese / English".
    public let message: String

    public init(_ name: String, _ outcome: Outcome, _ message: String) {
        self.name = name
        self.outcome = outcome
        self.message = message
    }
}

public struct SignatureVerification: Codable, Sendable {
    /// The PDF field name, or the `.p7s` file name.
    public var name: String
    public var signer: String?
    public var signingTime: Date?
    /// Where the signing time comes from: "cms-signing-time", "pdf-M", or nil.
    public var signingTimeSource: String?
    public var digestAlgorithm: String?
    public var signatureAlgorithm: String?
    /// For PDFs: the revision the signature covers (1-based, counting `%%EOF` markers) and how many the file has.
    public var coveredRevision: Int?
    public var totalRevisions: Int?
    public var coversWholeFile: Bool?
    /// The time of a valid signature timestamp (RFC 3161), when there is one.
    public var timestampTime: Date?
    /// good, revoked, unknown or not-checked.
    public var revocation: String?
    public var checks: [VerificationCheck] = []
    public var verdict: Verdict = .indeterminate

    public init(name: String) { self.name = name }

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

public struct DocumentVerification: Codable, Sendable {
    public var file: String
    public var kind: String
    public var trustAnchorsGiven: Bool
    public var signatures: [SignatureVerification]
    public var verdict: Verdict
    /// Document-level notes (no signatures, unsupported parts).
    public var notes: [String]

    public init(file: String, kind: String, trustAnchorsGiven: Bool, signatures: [SignatureVerification], notes: [String] = []) {
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
    public var allValid: Bool { !signatures.isEmpty && signatures.allSatisfy { $0.verdict == .valid } }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public var text: String {
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

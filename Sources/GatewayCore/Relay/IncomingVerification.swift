import DocumentModel
import DocumentSigning
import EdXML
import Foundation
import TimeJSON
import X509

/// What the box found about the signatures of a document that came down from the hub (issue 14):
/// one finding per signature or unsigned file, and the document's verdict, each in words a clerk
/// can act on, Vietnamese first. **Unknown is never shown as valid.**
package struct IncomingVerdict: Sendable, Codable, Equatable {
    package enum Outcome: String, Sendable, Codable, Comparable {
        case valid
        /// Could not be checked (no trust anchors, a responder unreachable): shown as such.
        case unknown
        case invalid

        private var severity: Int { self == .valid ? 0 : self == .unknown ? 1 : 2 }
        package static func < (left: Outcome, right: Outcome) -> Bool { left.severity < right.severity }

        package var label: String {
            switch self {
            case .valid: "hợp lệ / valid"
            case .unknown: "chưa kiểm tra được / could not be checked"
            case .invalid: "không hợp lệ / invalid"
            }
        }
    }

    package struct Finding: Sendable, Codable, Equatable {
        /// "phong bì / envelope", or the file's name in the package.
        package var file: String
        package var signer: String?
        package var outcome: Outcome
        /// Why, when not valid: "Vietnamese / English".
        package var reason: String?
    }

    package var outcome: Outcome
    package var findings: [Finding]
    package var checkedAt: Date
    /// How the verdict changed on re-checks: "2026-12-05T10:00+07:00 chưa kiểm tra được → hợp lệ".
    package var history: [String] = []

    package init(findings: [Finding], checkedAt: Date) {
        self.findings = findings
        self.checkedAt = checkedAt
        outcome = findings.map(\.outcome).max() ?? .invalid
    }

    /// This verdict replacing `earlier`, its history carried on with a line when the outcome moved.
    package func replacing(_ earlier: IncomingVerdict) -> IncomingVerdict {
        var next = self
        next.history = earlier.history
        if earlier.outcome != outcome {
            next.history.append("\(GatewayJSON.format(checkedAt)): \(earlier.outcome.label) → \(outcome.label) (kiểm tra lại / re-checked)")
        }
        return next
    }

    /// The lines `thong-tin.txt` and `gatewayd inbox` show: the verdict, then each finding as a
    /// sentence a clerk can act on — "Chữ ký của Nguyễn Văn A trên tệp "qd.pdf": không hợp lệ —
    /// tệp đã bị sửa sau khi ký" — with its English on the line below.
    package var lines: [String] {
        var lines = ["Chữ ký số / Signatures: \(outcome.label)"]
        for finding in findings {
            let (labelVi, labelEn) = Self.halves(finding.outcome.label)
            let (reasonVi, reasonEn) = finding.reason.map(Self.halves) ?? ("", "")
            let isEnvelope = finding.file == IncomingVerifier.envelope
            let (fileVi, fileEn) = isEnvelope ? ("phong bì", "the envelope") : ("tệp \"\(finding.file)\"", "\"\(finding.file)\"")
            let vietnamese, english: String
            if let signer = finding.signer {
                vietnamese = "Chữ ký của \(signer) trên \(fileVi): \(labelVi)"
                english = "\(signer)'s signature on \(fileEn): \(labelEn)"
            } else {
                vietnamese = "\(fileVi.prefix(1).uppercased() + fileVi.dropFirst()): \(labelVi)"
                english = "\(isEnvelope ? "the envelope" : "the file " + fileEn): \(labelEn)"
            }
            lines.append("  " + vietnamese + (reasonVi.isEmpty ? "" : " — " + reasonVi))
            lines.append("    (" + english + (reasonEn.isEmpty ? "" : " — " + reasonEn) + ")")
        }
        return lines
    }

    /// "tiếng Việt / English" split at its first " / " (the form every reason here is written in).
    package static func halves(_ text: String) -> (String, String) {
        guard let range = text.range(of: " / ") else { return (text, text) }
        return (String(text[..<range.lowerBound]), String(text[range.upperBound...]))
    }

    enum CodingKeys: String, CodingKey { case outcome, findings, checkedAt = "checked_at", history }
}

/// Checks an incoming package: the envelope's XML signature and every signature in its files —
/// PAdES inside a PDF, a detached CAdES `NAME.p7s` beside its file — against the `[trust]` anchors,
/// with revocation asked for chains that reach one. A file that carries no signature makes the
/// document invalid: Decree 30/2020 wants every file of an electronic document signed.
package struct IncomingVerifier: Sendable {
    package let anchors: [Certificate]
    package let revocation: RevocationChecker?

    /// Without anchors nobody is asked about revocation: the responders named in certificates
    /// that chain to nothing we trust are the sender's to choose, and asking them would tell
    /// whoever runs them what arrived here, and when.
    package init(anchors: [Certificate], revocation: RevocationChecker?) {
        (self.anchors, self.revocation) = (anchors, anchors.isEmpty ? nil : revocation)
    }

    static let envelope = "phong bì / envelope"
    static let noAnchors = "chưa cài gốc tin cậy ([trust] anchors) / no trust anchors configured ([trust] anchors)"

    /// `scratch`: an empty directory for the unpacked files (removed by the caller).
    package func verify(packagePath: String, scratch: String, now: Date) async -> IncomingVerdict {
        let read: ReadResult
        do {
            read = try await PackageReader.read(path: packagePath, unpackTo: scratch, checkSignatures: true,
                                                trustRoots: anchors.isEmpty ? nil : anchors)
        } catch {
            return IncomingVerdict(findings: [.init(file: Self.envelope, signer: nil, outcome: .invalid,
                                                    reason: "không đọc được gói / the package cannot be read: \(error)")], checkedAt: now)
        }
        var findings = envelopeFindings(read.signatures ?? [])
        let files = read.attachments.compactMap(\.path)
        let names = Set(files.map { ($0 as NSString).lastPathComponent })
        for path in files.sorted() {
            let name = (path as NSString).lastPathComponent
            if name.lowercased().hasSuffix(".p7s") { continue }  // checked with the file it signs
            var report: DocumentVerification?
            if FileSigning.isPDF(path: path) {
                report = try? await DocumentVerifier.verify(path: path, trustRoots: anchors.isEmpty ? nil : anchors, revocation: revocation)
                if report?.signatures.isEmpty ?? true { report = nil }
            }
            if report == nil, names.contains(name + ".p7s") {
                report = await DocumentVerifier.verifyDetached(signaturePath: path + ".p7s", contentPath: path,
                                                               trustRoots: anchors.isEmpty ? nil : anchors, revocation: revocation)
            }
            guard let report else {
                findings.append(.init(file: name, signer: nil, outcome: .invalid,
                                      reason: "tệp chưa được ký số / the file is not digitally signed"))
                continue
            }
            findings += verdict(of: report, file: name, now: now).findings
        }
        return IncomingVerdict(findings: findings, checkedAt: now)
    }

    /// The verdict on one file's report, in the words the inbox uses (for `gatewayd verify`, so a
    /// person at the command line reads what a clerk reads): a file with no signature is invalid.
    package func verdict(of report: DocumentVerification, file: String, now: Date) -> IncomingVerdict {
        guard !report.signatures.isEmpty else {
            return IncomingVerdict(findings: [.init(file: file, signer: nil, outcome: .invalid,
                                                    reason: "tệp chưa được ký số / the file is not digitally signed")], checkedAt: now)
        }
        return IncomingVerdict(findings: report.signatures.map { finding(file: file, $0) }, checkedAt: now)
    }

    /// "UBND tỉnh Quảng Trị (MST:3200000000)" from a subject as the checks print it (RFC 4514
    /// order, UID as its OID): what a clerk recognises, not the whole distinguished name.
    static func displayName(_ subject: String) -> String {
        func value(_ key: String) -> String? {
            guard let range = subject.range(of: key + "=") else { return nil }
            let rest = subject[range.upperBound...]
            return String(rest.prefix { $0 != "," }).trimmingCharacters(in: .whitespaces)
        }
        guard let name = value("CN") else { return subject }
        return value("0.9.2342.19200300.100.1.1").map { "\(name) (\($0))" } ?? name
    }

    func envelopeFindings(_ checks: [SignatureCheck]) -> [IncomingVerdict.Finding] {
        guard !checks.isEmpty else {
            return [.init(file: Self.envelope, signer: nil, outcome: .invalid, reason: "phong bì không có chữ ký số của nơi gửi / the envelope is not signed by its sender")]
        }
        return checks.map { check in
            let outcome: IncomingVerdict.Outcome
            var reason: String?
            switch (check.outcome, check.trust) {
            case (.invalid, _):
                outcome = .invalid
                reason = "chữ ký phong bì sai: gói đã bị sửa hoặc chữ ký hỏng / the envelope's signature does not verify: the package was changed or the signature is broken"
                    + (check.reasons.isEmpty ? "" : " (\(check.reasons.joined(separator: "; ")))")
            case (.weak, _):
                outcome = .invalid
                reason = "thuật toán yếu (SHA-1) / a weak algorithm (SHA-1)"
            case (.valid, .trusted):
                outcome = .valid
            case (.valid, .untrusted):
                outcome = .invalid
                reason = "chứng thư không dẫn tới gốc tin cậy / the certificate does not chain to a trusted root" + (check.trustDetail.map { " (\($0))" } ?? "")
            case (.valid, .notChecked):
                outcome = .unknown
                reason = Self.noAnchors
            }
            return .init(file: Self.envelope, signer: check.signer.map(Self.displayName), outcome: outcome, reason: reason)
        }
    }

    func finding(file: String, _ signature: SignatureVerification) -> IncomingVerdict.Finding {
        let notPassed = signature.checks.filter { $0.outcome != .passed }
        let failed = signature.checks.filter { $0.outcome == .failed }
        let signer = signature.signer.map(Self.displayName)
        switch signature.verdict {
        case .valid:
            // Without anchors "valid" means the maths hold, not that anyone trusted signed it.
            if anchors.isEmpty { return .init(file: file, signer: signer, outcome: .unknown, reason: Self.noAnchors) }
            return .init(file: file, signer: signer, outcome: .valid, reason: nil)
        case .invalid:
            let integrity = failed.contains { ["integrity", "byte-range"].contains($0.name) }
            let reason = integrity ? "tệp đã bị sửa sau khi ký / the file was changed after it was signed" : failed.first?.message
            return .init(file: file, signer: signer, outcome: .invalid, reason: reason ?? "chữ ký không hợp lệ / the signature is invalid")
        case .untrusted:
            guard !anchors.isEmpty else { return .init(file: file, signer: signer, outcome: .unknown, reason: Self.noAnchors) }
            return .init(file: file, signer: signer, outcome: .invalid,
                         reason: "chứng thư không dẫn tới gốc tin cậy / the certificate does not chain to a trusted root")
        case .indeterminate:
            // A weak algorithm is a defect of the signature, not a question the network can answer.
            if let weak = failed.first(where: { $0.name == "algorithm" }) {
                return .init(file: file, signer: signer, outcome: .invalid, reason: weak.message)
            }
            if anchors.isEmpty { return .init(file: file, signer: signer, outcome: .unknown, reason: Self.noAnchors) }
            return .init(file: file, signer: signer, outcome: .unknown,
                         reason: (failed.first ?? notPassed.first)?.message ?? "chưa xác định được / could not be determined")
        }
    }
}

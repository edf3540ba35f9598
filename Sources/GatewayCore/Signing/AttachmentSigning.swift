import DocumentSigning
import DurableFiles
import Foundation
import Signing
import SigningPolicy

/// The attachments' signatures in the seal session (Decree 30/2020 Appendix I: attachments are
/// signed by the organization only, never by the leader): a PDF attachment by PAdES in the
/// `attachment` role — the register's number/notation and the time at the top right of page 1,
/// as `gatewayd sign --role attachment --number` draws it — any other file by a detached CAdES
/// `.p7s`, both with the seal session's token (no second PIN).
///
/// Order and consistency: the attachments are signed *before* the main document's seal, after
/// its number was given, each committed by itself (`DocumentStore.commitAttachmentSignature`)
/// while the document stays `awaiting_seal`; the main document's seal is the commit that makes it
/// `signed`. So a document is `signed` only with every attachment signed; a pulled token or a
/// crash leaves some attachments signed and the document `awaiting_seal` with its number, and the
/// next seal session signs only those not signed yet, then the seal — nothing is signed twice.
extension SigningStage {
    /// Signs the attachments of `record` not signed yet. nil when all are signed; otherwise why
    /// one could not be (the document's result: it stays `awaiting_seal`). Throws only what ends
    /// the session (the token's failures).
    func signAttachments(of record: DocumentRecord, number: RegisterNumber?, session: String, token: any SessionToken,
                         authorization: SigningAuthorization, at now: Date) async throws -> String? {
        let attachments: [AttachmentRecord]
        do { attachments = try store.attachments(record.id) } catch { return "\(error)" }
        for attachment in attachments where !attachment.isSigned {
            let source = store.layout.attachmentPath(record.id, position: attachment.position, version: attachment.version)
            let kind: SignedAttachment.Kind = FileSigning.isPDF(path: source) ? .pdfVersion : .detachedSignature
            let output = store.attachmentSigningTemporaryPath(attachment, kind: kind)
            do {
                switch kind {
                case .pdfVersion: try await signAttachmentPDF(source: source, output: output, signer: token.signer, number: number, at: now)
                case .detachedSignature: try await signAttachmentDetached(source: source, output: output, signer: token.signer)
                }
            } catch {
                POSIXFile.unlinkIfPresent(output)
                if let failure = error as? SessionTokenFailure { throw failure }
                // The attachment's own problem: marked on the document for the clerk, as the main
                // document's would be (SigningStage.sign); the batch goes on.
                let reason = "tệp đính kèm \"\(attachment.fileName)\" không ký được / attachment \"\(attachment.fileName)\" could not be signed: \(error)"
                try? store.mark(record.id, reason: reason, cause: "phiên ký / signing session \(session): \(reason)", at: environment.now())
                return reason
            }
            do {
                let digest = try POSIXFile.sha256(ofFile: output, sync: true)
                let how = kind == .pdfVersion ? "PAdES" : "CAdES .p7s"
                try store.commitAttachmentSignature(SignedAttachment(
                    document: record.id, position: attachment.position, fromVersion: attachment.version, kind: kind, temporaryPath: output,
                    sha256: digest.sha256, size: digest.size,
                    cause: "ký tệp đính kèm \"\(attachment.fileName)\" (\(how)) / attachment signed by the organization "
                        + "\(authorization.signer.displayName) (\(authorization.signer.identifier)); phiên / session \(session), token \(token.location)"),
                    at: environment.now())
            } catch {
                POSIXFile.unlinkIfPresent(output)
                return "tệp đính kèm \"\(attachment.fileName)\": \(error)"
            }
        }
        return nil
    }

    /// PAdES in the `attachment` role: "<số/ký hiệu> <time>" at the top right of page 1 in the
    /// configured font (an invisible signature when no font could be read: the signature is what
    /// matters, the text only shows it).
    private func signAttachmentPDF(source: String, output: String, signer: any Signer, number: RegisterNumber?, at now: Date) async throws {
        var options = PAdESSigner.Options()
        options.signingTime = now
        options.location = settings.place
        options.page = 1
        options.reason = FileSigning.Role.attachment.reason + (number.map { " — Số \($0.reference), \($0.vietnameseDate)" } ?? "")
        if let font = settings.font {
            let time = PAdESSigner.isoTime(now, options.timeZone)
            options.appearance = SignatureAppearance(content: .text([[number?.reference, time].compactMap { $0 }.joined(separator: " ")]), font: font)
        }
        let algorithm = signer.keyType.algorithms[0]
        try await withTimestampFallback { timestamp in
            var stamped = options
            stamped.timestamp = timestamp
            _ = try await PAdESSigner.sign(input: source, output: output, signer: signer, algorithm: algorithm, options: stamped)
        }
    }

    private func signAttachmentDetached(source: String, output: String, signer: any Signer) async throws {
        let algorithm = signer.keyType.algorithms[0]
        try await withTimestampFallback { timestamp in
            try await FileSigning.signDetached(path: source, output: output, signer: signer, algorithm: algorithm, timestamp: timestamp)
        }
    }

    /// B-T when a TSA is configured and answers, else B-B (the link being down never blocks signing).
    private func withTimestampFallback(_ sign: ((@Sendable ([UInt8]) async throws -> [UInt8])?) async throws -> Void) async throws {
        guard let timestamp = environment.timestamp else { return try await sign(nil) }
        do {
            try await sign(timestamp)
        } catch let error as TimeStampError {
            logger.warning("timestamp failed, signing B-B", metadata: ["error": "\(error)"])
            try await sign(nil)
        }
    }
}

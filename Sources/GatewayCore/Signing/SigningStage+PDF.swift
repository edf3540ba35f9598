// The PDF signature a session makes, with the role's Decree 30/2020 appearance (docs/signing.md,
// "Appearances"): where the leader's image or text goes, the seal over it, the timestamp that
// falls back to B-B. The session itself (who may sign what, the versions) is SigningStage.swift.
import DocumentSigning
import Foundation
import Signing
import SigningPolicy

extension SigningStage {
    /// PAdES with the role's Decree 30 appearance: the leader's signature image (or their name,
    /// title and time in text) at the lower right of the last page; the seal over the left third
    /// of the leader's image (or where the leader's box would be). The number and date from the
    /// register are in the seal signature's reason.
    func signPDF(source: String, output: String, metadata: DocumentMetadata, authorization: SigningAuthorization,
                         signer: any Signer, number: RegisterNumber?, at now: Date) async throws {
        let pages = try PDFDocument(path: source).pageCount()
        var options = PAdESSigner.Options()
        options.signingTime = now
        options.location = settings.place
        // The document's own placement (`page`, `rect` in its metadata), else the preset.
        options.page = min(metadata.page ?? pages, pages)
        let leaderBox = metadata.rect ?? SigningSettings.leaderBox
        switch authorization.signatory {
        case .leader(let leader):
            options.reason = FileSigning.Role.leader.reason
            if let image = images.signature(for: leader.identity.description)?.png {
                options.appearance = SignatureAppearance(content: .image(image, lines: []), rectangle: leaderBox)
            } else if let font = settings.font {
                options.appearance = SignatureAppearance(
                    content: .text([leader.title, leader.name, PAdESSigner.isoTime(now, options.timeZone)]),
                    rectangle: leaderBox, font: font)
            }
        case .organization:
            options.reason = FileSigning.Role.organization.reason + (number.map { " — Số \($0.reference), \($0.vietnameseDate)" } ?? "")
            if let seal = images.seal {
                options.appearance = SignatureAppearance(content: .seal(seal.image, width: seal.width, height: seal.height))
            }
        }
        let algorithm = signer.keyType.algorithms[0]
        func attempt(_ options: PAdESSigner.Options) async throws {
            do {
                _ = try await PAdESSigner.sign(input: source, output: output, signer: signer, algorithm: algorithm, options: options)
            } catch SignatureAppearance.Failure.noEarlierSignatureImage {
                // No leader image to put the seal over (signed elsewhere, or in text): the seal
                // goes where the leader's image would be, over its left third.
                guard case .seal(let image, let width, let height) = options.appearance?.content else { throw SignatureAppearance.Failure.noEarlierSignatureImage }
                var placed = options
                placed.appearance = SignatureAppearance(content: .seal(image, width: width, height: height), rectangle: SignatureAppearance.sealRectangle(
                    signatureImage: leaderBox, sealWidth: width, sealHeight: height))
                _ = try await PAdESSigner.sign(input: source, output: output, signer: signer, algorithm: algorithm, options: placed)
            }
        }
        guard let timestamp = environment.timestamp else { return try await attempt(options) }
        var stamped = options
        stamped.timestamp = timestamp
        do {
            try await attempt(stamped)
        } catch let error as TimeStampError {
            logger.warning("timestamp failed, signing B-B", metadata: ["error": "\(error)"])
            try await attempt(options)
        }
    }
}

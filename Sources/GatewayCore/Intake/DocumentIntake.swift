// One submission's checks and commit, shared by the local API's `POST /v1/documents` and the
// console's upload form, so that both doors refuse the same documents for the same reasons
// (Decision: one copy of the intake rules; the hot folder has its own flow over the same parts).
import Foundation

package struct DocumentIntake: Sendable {
    package let store: DocumentStore
    package let parser: MetadataParser
    /// How a submission's `"signed": true` is checked before it is committed.
    package let signedClaims: SignedClaimCheck

    package init(store: DocumentStore, parser: MetadataParser, signedClaims: SignedClaimCheck) {
        (self.store, self.parser, self.signedClaims) = (store, parser, signedClaims)
    }

    /// The parsers and checks the daemon builds from its configuration (recipients by name from
    /// the hub's directory kept in the store; signed claims against [trust], the leaders, [agency]).
    package init(configuration: GatewayConfiguration, store: DocumentStore) {
        self.init(store: store,
                  parser: MetadataParser(defaultRecipients: configuration.intake.defaultRecipients, directory: store,
                                         defaultSignatures: configuration.signing.defaultSignatures),
                  signedClaims: SignedClaimCheck(configuration: configuration))
    }

    /// The document's file name from its metadata, checked: present, a safe name, and not the
    /// name of one of its own attachments.
    package static func fileName(of parsed: MetadataParser.Parsed) throws(IntakeError) -> String {
        guard let name = parsed.fileName else {
            throw IntakeError.invalidFileName("thiếu tên tệp (file_name)", "file_name is missing")
        }
        let fileName = try FileNameRule.validate(name)
        if let clash = parsed.metadata.attachmentNames.first(where: { $0 == fileName }) {
            throw IntakeError.invalidMetadata("tệp đính kèm \"\(clash)\" trùng tên với chính văn bản", "the attachment \"\(clash)\" is the document itself",
                                              field: "attachments")
        }
        return fileName
    }

    /// A staged attachment checked like a document (a `.pdf` must be a PDF the box can sign);
    /// refused ones are discarded.
    package func checkAttachment(_ staged: StagedDocument, name: String, contentType: String?) async throws(IntakeError) {
        guard staged.size > 0 else {
            staged.discard()
            throw IntakeError.emptyDocument.inAttachment(name)
        }
        do throws(IntakeError) {
            try await PDFIntakeCheck.check(staged, fileName: name, contentType: contentType, on: store.ioPool)
        } catch {
            throw error.code.isTransient ? error : error.inAttachment(name)
        }
    }

    /// Checks a staged document and commits it with its attachments: the PDF check, then
    /// `attachments` (called only once the document passed, so that attachments held elsewhere
    /// stay held when the document is refused), the signed claim, the store's commit. Nothing is
    /// left staged when it is refused.
    package func admit(_ staged: StagedDocument, contentType: String?, request: IntakeRequest,
                       attachments: () throws(IntakeError) -> [StagedDocument]) async throws(IntakeError) -> IntakeReceipt {
        var request = request
        try await PDFIntakeCheck.check(staged, fileName: request.fileName, contentType: contentType, on: store.ioPool)
        let taken: [StagedDocument]
        do { taken = try attachments() } catch {
            staged.discard()
            throw error
        }
        if !taken.isEmpty { request.cause += " with \(taken.count) attachment(s)" }
        do throws(IntakeError) {
            let files = zip(request.metadata.attachmentNames, taken).map { SignedClaimCheck.File(path: $1.path, name: $0) }
            request.cause += try await signedClaims.admit(&request.metadata, document: .init(path: staged.path, name: request.fileName), attachments: files)
        } catch {
            for refused in [staged] + taken { refused.discard() }
            throw error
        }
        return try await store.commit(staged, attachments: taken, request)
    }
}

extension DocumentIntake {
    /// A new staged attachment, streamed into by a door that receives several files at once
    /// (the console's upload form).
    package func beginAttachment() throws(IntakeError) -> StagedDocument {
        try store.beginAttachment(of: store.newDocumentID(), position: 1, expectedSize: nil)
    }
}

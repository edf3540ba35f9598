import DocumentModel
import DurableFiles
import EdXML
import Foundation

/// Makes the edXML package a queued document is sent as, at the point of queueing
/// (`signed → queued`): the pipeline has no separate edXML stage yet, so the relay builds it from
/// the stored document and its metadata, with the EdXML module.
///
/// The package's XML signature: none (no signer is wired into the daemon yet). The document
/// itself may carry its own signature (a signed PDF); the envelope does not. Written down in
/// docs/relay.md as not done.
package struct OutboundPackager: Sendable {
    package var agencyCode: AgencyCode
    package var agencyName: String?

    package init(agencyCode: AgencyCode, agencyName: String?) {
        self.agencyCode = agencyCode
        self.agencyName = agencyName
    }

    /// A reason the package cannot be built: a person must fix the document's metadata.
    package struct Refusal: Error, Sendable {
        package var message: String
    }

    /// The package model for `document` (pure; `now` gives the promulgation date and trace time).
    package func package(for document: DocumentRecord, now: Date) throws(Refusal) -> DocumentPackage {
        let metadata = document.metadata
        guard let number = metadata.number, !number.isEmpty, let notation = metadata.notation, !notation.isEmpty else {
            throw Refusal(message: "Văn bản thiếu số hoặc ký hiệu, không lập được gói edXML / the document has no number or notation; an edXML package needs both")
        }
        guard let subject = metadata.subject, !subject.isEmpty else {
            throw Refusal(message: "Văn bản thiếu trích yếu, không lập được gói edXML / the document has no subject; an edXML package needs one")
        }
        let from = agencyCode.description
        let date = EdXMLDate(now).description
        let code = DocumentCode(number: number, notation: notation)
        let signer = metadata.signer.map { SignerInfo(competence: $0.competence, position: $0.position, fullName: $0.fullName) }
        let package = DocumentPackage(
            header: MessageHeader(
                from: Organization(organId: from, organName: agencyName),
                to: metadata.recipients.map { Organization(organId: $0.description) },
                code: code,
                promulgationInfo: PromulgationInfo(date: date),
                documentType: DocumentType(typeName: metadata.documentType),
                subject: subject,
                signerInfo: signer,
                otherInfo: OtherInfo(priority: metadata.priority.rawValue),
                documentId: MessageHeader.composedDocumentId(from: from, date: date, code: code)),
            traces: [TraceHeader(organId: from, timestamp: EdXMLTimestamp(now).description)],
            business: Business(docType: .new),
            attachments: [AttachmentInfo(contentId: document.id.description, name: document.fileName,
                                         contentType: AttachmentInfo.contentType(forFileName: document.fileName))])
        let findings = package.findings()
        guard findings.isEmpty else {
            throw Refusal(message: "Gói edXML không hợp lệ / the edXML package breaks the rules: "
                          + findings.map { "\($0.path): \($0.problem)" }.joined(separator: "; "))
        }
        return package
    }

    /// Writes the package next to the store (temporary name, fsync, rename, directory fsync) and
    /// returns its digest and size. Streams: the document is base64-encoded from its file.
    package func write(_ package: DocumentPackage, document: DocumentRecord, layout: StoreLayout) async throws -> (sha256: String, size: Int64) {
        let temporary = layout.temporaryDirectory + "/" + document.id.description + ".edxml.part"
        let target = layout.packagePath(document.id)
        POSIXFile.unlinkIfPresent(temporary)
        try await PackageWriter.write(package, attachmentFiles: [layout.objectPath(document.id, version: document.version)], to: temporary)
        let digest = try POSIXFile.sha256(ofFile: temporary, sync: true)
        try POSIXFile.rename(temporary, target)
        try POSIXFile.fsyncDirectory(layout.packagesDirectory)
        return digest
    }
}

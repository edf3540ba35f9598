import DocumentModel
import DurableFiles
import EdXML
import Foundation
import Logging
import Signing

/// Makes the edXML package a queued document is sent as, at the point of queueing
/// (`signed → queued`): the pipeline has no separate edXML stage yet, so the relay builds it from
/// the stored document and its metadata, with the EdXML module.
///
/// Every package is XML-signed (enveloped XMLDSig over the whole package): `write` and `queue`
/// take a signer and have no unsigned form. Who signs is the caller's choice (docs/relay.md,
/// "Which key signs which envelope"): the box's key in `PackagingService` for documents that
/// arrived signed; the organization's token in the seal session for documents sealed on the box.
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

    /// The package model for `document` and its `attachments` (pure; `now` gives the trace time,
    /// and the promulgation date of a document that has no number from the box's register).
    package func package(for document: DocumentRecord, attachments: [AttachmentRecord] = [], now: Date) throws(Refusal) -> DocumentPackage {
        let metadata = document.metadata
        // Sealed on the box: the register's number, notation and date (Decree 30 Art. 15).
        let registered = document.registerNumber
        let number = registered?.formattedNumber ?? metadata.number
        let notation = registered.map { $0.notation.isEmpty ? nil : $0.notation } ?? metadata.notation
        guard let number, !number.isEmpty, let notation, !notation.isEmpty else {
            throw Refusal(message: "Văn bản thiếu số hoặc ký hiệu, không lập được gói edXML / the document has no number or notation; an edXML package needs both")
        }
        guard let subject = metadata.subject, !subject.isEmpty else {
            throw Refusal(message: "Văn bản thiếu trích yếu, không lập được gói edXML / the document has no subject; an edXML package needs one")
        }
        let from = agencyCode.description
        let date = EdXMLDate(registered?.date ?? now).description
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
            attachments: Self.packageFiles(document, attachments: attachments).map(\.info))
        let findings = package.findings()
        guard findings.isEmpty else {
            throw Refusal(message: "Gói edXML không hợp lệ / the edXML package breaks the rules: "
                          + findings.map { "\($0.path): \($0.problem)" }.joined(separator: "; "))
        }
        return package
    }

    /// Writes the package, XML-signed by `signer`, next to the store (temporary name, fsync,
    /// rename, directory fsync) and returns its digest and size. Streams: the document is
    /// base64-encoded from its file (read twice: once for the signature's digest, once to write).
    package func write(_ package: DocumentPackage, document: DocumentRecord, attachments: [AttachmentRecord] = [], layout: StoreLayout,
                       signer: any Signer) async throws -> (sha256: String, size: Int64) {
        let temporary = layout.temporaryDirectory + "/" + document.id.description + ".edxml.part"
        let target = layout.packagePath(document.id)
        POSIXFile.unlinkIfPresent(temporary)
        let files = Self.packageFiles(document, attachments: attachments).map { layout.objectsDirectory + "/" + $0.objectName }
        try await PackageWriter.write(package, attachmentFiles: files, to: temporary, signer: signer)
        let digest = try POSIXFile.sha256(ofFile: temporary, sync: true)
        try POSIXFile.rename(temporary, target)
        try POSIXFile.fsyncDirectory(layout.packagesDirectory)
        return digest
    }

    /// What queueing one document came to.
    package enum QueueOutcome: Sendable, Equatable {
        /// Its signed package is on disk and it is `queued` in its lane.
        case queued(sha256: String, size: Int64)
        /// No package can be built from its metadata: it is `rejected` with `reason`.
        case rejected(reason: String)
        /// It was no longer `signed` when read again (queued, sent or rejected meanwhile):
        /// nothing was written, so a package already queued is never overwritten.
        case notSigned(DocumentState?)
    }

    /// `signed → queued` for one document: builds its package, signs it with `signer`, writes it
    /// and commits its relay row with the state change (`DocumentStore.queueForRelay`). A document
    /// whose metadata cannot make a package goes to `rejected` with the reason. Throws on a disk or
    /// database failure; the document then stays `signed`.
    ///
    /// The one path both signers take: `PackagingService` with the box's key, and the seal session
    /// with the organization's token (issue 13), so a document sealed on the box is queued exactly
    /// as one that arrived signed. Needs no running relay: a document queued while the link is
    /// not configured waits for it.
    package func queue(_ id: DocumentID, signer: any Signer, store: DocumentStore, now: Date,
                       logger: Logger) async throws -> QueueOutcome {
        // Read again rather than trust the caller's copy: the package path is one per document,
        // and rewriting the package of a document already queued would change the bytes under its
        // recorded digest (an upload would then fail its receipt check for ever).
        let current = try store.document(id)
        guard let document = current, document.state == .signed else { return .notSigned(current?.state) }
        let attachments = try store.attachments(document.id)
        let package: DocumentPackage
        do { package = try self.package(for: document, attachments: attachments, now: now) } catch {
            try store.transition(document.id, to: .rejected, cause: "edXML package could not be built", reason: error.message)
            logger.warning("document rejected: no edXML package", metadata: ["document.id": "\(document.id)", "reason": "\(error.message)"])
            return .rejected(reason: error.message)
        }
        let (sha256, size) = try await write(package, document: document, attachments: attachments, layout: store.layout, signer: signer)
        try store.queueForRelay(OutboundRecord(
            documentId: document.id, packageKey: package.header.documentId ?? "", packageSHA256: sha256, packageSize: size,
            lane: RelayLane(document.metadata.priority), queuedAt: now, uploadPath: nil, attempts: 0, nextAttemptAt: nil,
            lastError: nil, receipt: nil, deliveredAt: nil))
        logger.info("document queued for the hub", metadata: [
            "document.id": "\(document.id)", "package.bytes": "\(size)", "envelope.signer": "\(signer.certificate.subject)"])
        return .queued(sha256: sha256, size: size)
    }
}

import EdXML

/// The files an outgoing package carries, in order: the main document, then each attachment
/// (phụ lục) as the metadata lists it — its current version, signed in the seal session — each
/// followed by its detached signature (`NAME.p7s`) when it has one. One list serves both the
/// package's manifest (`AttachmentInfo`) and the files written, so they cannot disagree.
extension OutboundPackager {
    struct PackageFile: Equatable {
        var info: AttachmentInfo
        /// Its name in the store's `objects/`.
        var objectName: String
    }

    static func packageFiles(_ document: DocumentRecord, attachments: [AttachmentRecord]) -> [PackageFile] {
        var files = [PackageFile(
            info: AttachmentInfo(contentId: document.id.description, name: document.fileName,
                                 contentType: AttachmentInfo.contentType(forFileName: document.fileName)),
            objectName: StoreLayout.objectName(document.id, version: document.version))]
        for attachment in attachments {
            files.append(PackageFile(
                info: AttachmentInfo(contentId: StoreLayout.attachmentName(document.id, position: attachment.position, version: 0),
                                     name: attachment.fileName, contentType: AttachmentInfo.contentType(forFileName: attachment.fileName)),
                objectName: StoreLayout.attachmentName(document.id, position: attachment.position, version: attachment.version)))
            if let signature = attachment.signatureFile {
                files.append(PackageFile(
                    info: AttachmentInfo(contentId: signature, name: attachment.fileName + ".p7s",
                                         contentType: AttachmentInfo.contentType(forFileName: signature)),
                    objectName: signature))
            }
        }
        return files
    }
}

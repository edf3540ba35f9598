// Where a document's signatures will go, for the console's signing page: the page that carries
// them (its size from the PDF's box) and the boxes of the leader's image and of the seal, by the
// same rules as SigningStage+PDF.swift, so the page shows what the signature will do.
import DocumentSigning
import Foundation
import SigningPolicy

/// The page and boxes in PDF points from the page's lower left (x, y, width, height).
package struct SignaturePreview: Sendable, Equatable {
    /// 1-based, of `pages`.
    package var page: Int
    package var pages: Int
    /// The page's visible area, [llx lly urx ury].
    package var box: [Double]
    /// The leader's image (or text) box, when the document needs the leader's signature.
    package var leader: [Double]?
    /// The seal's box, when the document needs the organization's seal.
    package var seal: [Double]?
}

extension SigningStage {
    /// A seal of 40 mm (the usual size of a commune's round seal) when no seal image is configured.
    static let defaultSealSide = 40 * 72 / 25.4

    /// nil when the file does not open as a PDF (its reason is on the document).
    package nonisolated func preview(_ record: DocumentRecord) -> SignaturePreview? {
        let path = store.layout.objectPath(record.id, version: record.version)
        guard let document = try? PDFDocument(path: path), let pages = try? document.pageCount(), pages > 0 else { return nil }
        let page = min(max(record.metadata.page ?? pages, 1), pages)
        guard let box = try? document.page(page).box, box.count == 4 else { return nil }
        let roles = record.metadata.signatures ?? [.leader, .organization]
        let leaderBox = record.metadata.rect ?? SigningSettings.leaderBox
        let (width, height) = images.seal.map { ($0.width, $0.height) } ?? (Self.defaultSealSide, Self.defaultSealSide)
        return SignaturePreview(
            page: page, pages: pages, box: box, leader: roles.contains(.leader) ? leaderBox : nil,
            seal: roles.contains(.organization) ? SignatureAppearance.sealRectangle(signatureImage: leaderBox, sealWidth: width, sealHeight: height) : nil)
    }
}

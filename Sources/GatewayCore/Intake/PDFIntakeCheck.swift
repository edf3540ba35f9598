import DocumentSigning
import Foundation
import NIOPosix

/// The PDF check both doors make on a staged document before it is committed: a file that says
/// it is a PDF must be one the box can sign later, so the clerk learns at the door — not when
/// the leader sits down to sign — that it does not parse or carries a password.
///
/// A file says it is a PDF by its name (`.pdf`, any case), by the `Content-Type` it was posted
/// with (`application/pdf`), or by its first bytes (`%PDF-`). Other files pass untouched: which
/// formats may be the main document is decided at signing, not here.
package enum PDFIntakeCheck {
    static let magic = Array("%PDF-".utf8)

    package static func claimsPDF(fileName: String, contentType: String?, head: [UInt8]) -> Bool {
        if fileName.lowercased().hasSuffix(".pdf") || head.starts(with: magic) { return true }
        // `application/pdf; name=…` still names the type; anything else (curl's form default,
        // octet-stream) claims nothing.
        let mediaType = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        return mediaType == "application/pdf"
    }

    /// Refuses a document that claims to be a PDF and is not one the box can sign. Reads only
    /// what `PDFDocument.checkSignable` reads (tail, cross-reference, catalog, first page's path).
    package static func check(_ source: any PDFByteSource, fileName: String, contentType: String? = nil) throws(IntakeError) {
        let head: [UInt8]
        do { head = try source.read(at: 0, count: magic.count) } catch { throw .storeUnavailable("\(error)") }
        guard claimsPDF(fileName: fileName, contentType: contentType, head: head) else { return }
        do {
            try PDFDocument.checkSignable(source)
        } catch .encrypted {
            throw .encryptedPDF(fileName)
        } catch .io(let reason) {
            // The staged copy could not be read back: the box's fault, not the file's.
            throw .storeUnavailable(reason)
        } catch {
            throw .notAPDF(fileName, error.messages.vi, error.messages.en)
        }
    }

    /// The check on a staged document, on the I/O pool (it reads the disk); a refused document
    /// is discarded, so nothing of it remains. An empty one is left for `commit` to refuse as
    /// `empty_document`, the reason the clerk must see first.
    static func check(_ staged: StagedDocument, fileName: String, contentType: String? = nil, on pool: NIOThreadPool) async throws(IntakeError) {
        // Most documents that are not PDFs are decided here, from the name and the bytes kept
        // while staging, with no read of the file and no hop to the I/O pool.
        guard staged.size > 0, claimsPDF(fileName: fileName, contentType: contentType, head: staged.head) else { return }
        let path = staged.path
        let result: Result<Void, IntakeError>
        do {
            result = try await pool.runIfActive { () -> Result<Void, IntakeError> in
                let source: PDFFileSource
                do { source = try PDFFileSource(path: path) } catch { return .failure(.storeUnavailable("\(error)")) }
                do throws(IntakeError) { try check(source, fileName: fileName, contentType: contentType) } catch { return .failure(error) }
                return .success(())
            }
        } catch {
            result = .failure(.storeUnavailable("I/O pool stopped"))
        }
        if case .failure(let error) = result {
            staged.discard()
            throw error
        }
    }
}

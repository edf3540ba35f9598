/// The cheap "could this be signed?" question an intake door asks before it keeps a document.
extension PDFDocument {
    /// Opens `source` and checks what every signature of it will need, so a file that fails
    /// here is refused when it arrives rather than when someone is waiting to sign it: it parses
    /// (header, `startxref`, every cross-reference section and trailer), it is not encrypted
    /// (an incremental update cannot be written without its password), its catalog is a
    /// dictionary and page 1 can be reached (a signature's widget hangs on a page).
    ///
    /// Reads the file's tail, its cross-reference sections, the catalog and the path from the
    /// page tree's root to the first page — never the page contents — so the cost does not grow
    /// with the file's size.
    package static func checkSignable(_ source: any PDFByteSource) throws(PDFError) {
        do {
            let document = try PDFDocument(source: source)
            guard !document.isEncrypted else { throw PDFError.encrypted }
            _ = try document.catalog()
            _ = try document.page(1)
        } catch let error as PDFError {
            throw error
        } catch {
            throw PDFError.io("\(error)")
        }
    }
}

/// Why a PDF could not be read or signed: one case per thing a technician or clerk can act on,
/// each with a Vietnamese / English message. Offsets are in the file, so a bad file can be looked at
/// with a hex viewer.
package enum PDFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a PDF at all (no `%PDF-` header in the first kilobyte).
    case notPDF
    /// No `startxref` near the end: the file was cut short or is not a PDF.
    case noStartXref
    /// The bytes at `offset` are not what the grammar allows there.
    case syntax(offset: Int, reason: String)
    /// The file ends where more was needed (a truncated download or copy).
    case truncated(offset: Int)
    /// A cross-reference section (table or stream) points to something that is not one.
    case badCrossReference(offset: Int, reason: String)
    /// The cross-reference says object `number` is at an offset where it is not.
    case objectNotFound(number: Int, generation: Int)
    /// Object references that lead back to themselves (or a /Prev chain that loops).
    case referenceCycle(number: Int)
    /// A structure larger than the reader's limits (a declared length beyond the file, a stream
    /// that inflates past the ceiling, too many objects or revisions).
    case limitExceeded(String)
    /// A compressed stream that does not decompress.
    case badStream(number: Int?, reason: String)
    /// A filter or predictor the reader does not implement.
    case unsupported(String)
    /// The document structure is missing something signing needs (catalog, pages, page N).
    case structure(String)
    /// Encrypted documents cannot be signed by an incremental update without their password.
    case encrypted
    /// The document is certified (DocMDP) with "no changes allowed": any signature added would
    /// break its certification (ISO 32000-1 §12.8.2.2).
    case certifiedWithoutChanges
    /// The signature did not fit the space reserved for it even after a retry.
    case signatureTooLarge(reserved: Int, needed: Int)
    /// Reading or writing the file failed.
    case io(String)

    package var description: String { "\(messages.vi) / \(messages.en)" }

    /// The reason in Vietnamese (short: the technical detail is in the English) and in English,
    /// apart, for messages that put each language in its own place (an intake refusal).
    package var messages: (vi: String, en: String) {
        switch self {
        case .notPDF:
            ("Tệp không phải PDF", "the file is not a PDF (no %PDF- header)")
        case .noStartXref:
            ("Không tìm thấy startxref ở cuối tệp (tệp bị cắt cụt?)", "no startxref near the end of the file (truncated?)")
        case .syntax(let offset, let reason):
            ("Lỗi cú pháp PDF tại byte \(offset)", "PDF syntax error at byte \(offset): \(reason)")
        case .truncated(let offset):
            ("Tệp PDF bị cắt cụt tại byte \(offset)", "the PDF is truncated at byte \(offset)")
        case .badCrossReference(let offset, let reason):
            ("Bảng tham chiếu chéo hỏng tại byte \(offset)", "broken cross-reference section at byte \(offset): \(reason)")
        case .objectNotFound(let number, let generation):
            ("Không tìm thấy đối tượng \(number) \(generation) tại vị trí bảng tham chiếu ghi", "object \(number) \(generation) is not where the cross-reference says")
        case .referenceCycle(let number):
            ("Tham chiếu vòng quanh đối tượng \(number)", "reference cycle through object \(number)")
        case .limitExceeded(let what):
            ("Vượt giới hạn an toàn của bộ đọc PDF", "beyond the PDF reader's limits: \(what)")
        case .badStream(let number, let reason):
            ("Luồng dữ liệu nén hỏng\(number.map { " (đối tượng \($0))" } ?? "")", "a compressed stream does not decompress\(number.map { " (object \($0))" } ?? ""): \(reason)")
        case .unsupported(let what):
            ("Tính năng PDF chưa hỗ trợ", "unsupported PDF feature: \(what)")
        case .structure(let what):
            ("Cấu trúc PDF thiếu hoặc sai", "the PDF structure is missing or wrong: \(what)")
        case .encrypted:
            ("PDF đã mã hóa, không ký được", "the PDF is encrypted and cannot be signed")
        case .certifiedWithoutChanges:
            ("Tài liệu đã được chứng nhận không cho phép thay đổi (DocMDP P=1): ký thêm sẽ làm hỏng chứng nhận", "the document is certified with no changes allowed (DocMDP P=1): another signature would break it")
        case .signatureTooLarge(let reserved, let needed):
            ("Chữ ký (\(needed) byte) lớn hơn chỗ dành sẵn (\(reserved) byte)", "the signature (\(needed) bytes) does not fit the reserved \(reserved) bytes")
        case .io(let reason):
            ("Lỗi đọc/ghi tệp", "file read or write failed: \(reason)")
        }
    }
}

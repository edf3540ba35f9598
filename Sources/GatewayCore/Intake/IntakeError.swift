/// Why a document was not accepted. One type for both doors (hot folder and local API) so a
/// clerk sees the same words whichever way the document came in.
///
/// `code` is stable (programs and tests match on it); the messages are for people, Vietnamese
/// first, English after. No message ever carries document content or a secret.
import DocumentModel

package struct IntakeError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable, Codable, CaseIterable {
        case emptyDocument = "empty_document"
        case documentTooLarge = "document_too_large"
        case invalidMetadata = "invalid_metadata"
        case unreadableSidecar = "unreadable_sidecar"
        case invalidAgencyCode = "invalid_agency_code"
        case unknownAgencyName = "unknown_agency_name"
        case missingRecipients = "missing_recipients"
        case unknownPriority = "unknown_priority"
        case fieldTooLong = "field_too_long"
        case invalidFileName = "invalid_file_name"
        case notARegularFile = "not_a_regular_file"
        case unreadableFile = "unreadable_file"
        case notAPDF = "not_a_pdf"
        case encryptedPDF = "encrypted_pdf"
        /// `"signed": true`, and the signatures are missing, broken, untrusted or not this commune's.
        case signedClaimRefused = "signed_claim_refused"
        case missingAttachment = "missing_attachment"
        case fileStillBeingWritten = "file_still_being_written"
        case incompleteUpload = "incomplete_upload"
        case idempotencyConflict = "idempotency_conflict"
        case insufficientSpace = "insufficient_space"
        case diskFull = "disk_full"
        case storeUnavailable = "store_unavailable"

        /// HTTP status on the local API.
        package var httpStatus: Int {
            switch self {
            case .documentTooLarge: 413
            case .fileStillBeingWritten, .idempotencyConflict: 409
            case .insufficientSpace, .diskFull: 507
            case .storeUnavailable: 503
            default: 400
            }
        }

        /// Whether the same input may succeed later without anyone changing it. A hot-folder
        /// file refused for a transient reason stays where it is instead of going to `rejected/`.
        package var isTransient: Bool {
            switch self {
            case .fileStillBeingWritten, .insufficientSpace, .diskFull, .storeUnavailable: true
            default: false
            }
        }
    }

    package let code: Code
    package let messageVi: String
    package let messageEn: String
    /// The metadata field at fault, e.g. `recipients[1]`, when there is one.
    package let field: String?

    package init(_ code: Code, vi: String, en: String, field: String? = nil) {
        self.code = code
        self.messageVi = vi
        self.messageEn = en
        self.field = field
    }

    package var description: String { "\(code.rawValue): \(messageVi) / \(messageEn)" }

    /// The text written beside a refused hot-folder file (`NAME.error.txt`).
    package func errorFileText(fileName: String) -> String {
        var text = """
        Tệp "\(fileName)" không được tiếp nhận.
        Lý do: \(messageVi)

        The file "\(fileName)" was not accepted.
        Reason: \(messageEn)

        Mã lỗi / error code: \(code.rawValue)

        """
        if let field { text += "Trường / field: \(field)\n" }
        return text
    }
}

// MARK: - The refusals, worded once

extension IntakeError {
    static let emptyDocument = IntakeError(
        .emptyDocument,
        vi: "Tệp văn bản rỗng (0 byte). Hãy kiểm tra lại tệp và gửi lại.",
        en: "The document is empty (0 bytes). Check the file and submit it again.")

    static func documentTooLarge(limit: Int64) -> IntakeError {
        IntakeError(
            .documentTooLarge,
            vi: "Tệp văn bản lớn hơn giới hạn cho phép (\(ByteCountText.format(limit))). Hãy giảm dung lượng (ví dụ quét lại với độ phân giải thấp hơn) hoặc nhờ kỹ thuật viên tăng intake.max_document_size.",
            en: "The document is larger than the allowed maximum (\(ByteCountText.format(limit))). Reduce its size (e.g. rescan at a lower resolution) or ask the technician to raise intake.max_document_size.")
    }

    static func invalidMetadata(_ detailVi: String, _ detailEn: String, field: String? = nil) -> IntakeError {
        IntakeError(.invalidMetadata, vi: "Thông tin kèm theo văn bản không hợp lệ: \(detailVi)",
                    en: "The document's metadata is not valid: \(detailEn)", field: field)
    }

    static func unreadableSidecar(_ sidecarName: String, _ detailVi: String, _ detailEn: String) -> IntakeError {
        IntakeError(
            .unreadableSidecar,
            vi: "Không đọc được tệp thông tin kèm theo \"\(sidecarName)\": \(detailVi). Tệp này phải là JSON (UTF-8) như hướng dẫn.",
            en: "Cannot read the metadata sidecar \"\(sidecarName)\": \(detailEn). It must be JSON (UTF-8) as documented.")
    }

    static func invalidAgencyCode(_ value: String, field: String) -> IntakeError {
        IntakeError(
            .invalidAgencyCode,
            vi: "Mã định danh cơ quan nhận không hợp lệ: \"\(value)\". Mã đúng có dạng DDD.DD.DD.XNN, ví dụ 000.00.20.H13.",
            en: "Invalid recipient agency code: \"\(value)\". A code has the form DDD.DD.DD.XNN, e.g. 000.00.20.H13.",
            field: field)
    }

    static func unknownAgencyName(_ value: String, suggestions: [AgencyDirectory.Entry], ambiguous: Bool, field: String) -> IntakeError {
        let listed = suggestions.map { "\($0.name) (\($0.code))" }.joined(separator: "; ")
        if ambiguous {
            return IntakeError(
                .unknownAgencyName,
                vi: "Có nhiều cơ quan cùng tên \"\(value)\": \(listed). Hãy ghi mã định danh.",
                en: "Several agencies are named \"\(value)\": \(listed). Give the agency code instead.", field: field)
        }
        return IntakeError(
            .unknownAgencyName,
            vi: "Không có cơ quan tên \"\(value)\" trong danh bạ của cấp trên."
                + (listed.isEmpty ? " Hãy ghi mã định danh (dạng 000.00.20.H13) hoặc xem: gatewayd directory." : " Có phải: \(listed)?"),
            en: "No agency named \"\(value)\" in the hub's directory."
                + (listed.isEmpty ? " Give the agency code (like 000.00.20.H13) or see: gatewayd directory." : " Did you mean: \(listed)?"),
            field: field)
    }

    static let missingRecipients = IntakeError(
        .missingRecipients,
        vi: "Văn bản chưa có cơ quan nhận. Hãy ghi mã định danh cơ quan nhận (recipients) trong thông tin kèm theo.",
        en: "The document has no recipient. Give the recipients' agency codes (recipients) in its metadata.",
        field: "recipients")

    static func unknownPriority(_ value: String) -> IntakeError {
        IntakeError(
            .unknownPriority,
            vi: "Độ khẩn \"\(value)\" không hợp lệ. Dùng 0 (Thường), 1 (Khẩn), 2 (Thượng khẩn), 3 (Hỏa tốc) hoặc 4 (Hỏa tốc hẹn giờ).",
            en: "Unknown priority \"\(value)\". Use 0 (normal), 1 (urgent), 2 (very urgent), 3 (flash) or 4 (flash, scheduled).",
            field: "priority")
    }

    static func fieldTooLong(_ field: String, nameVi: String, limit: Int, actual: Int) -> IntakeError {
        IntakeError(
            .fieldTooLong,
            vi: "Trường \"\(nameVi)\" dài \(actual) ký tự, vượt quá \(limit) ký tự cho phép (Nghị định 30/2020/NĐ-CP, Phụ lục VI).",
            en: "The field \"\(field)\" is \(actual) characters long, more than the \(limit) allowed (Decree 30/2020, Appendix VI).",
            field: field)
    }

    static func invalidFileName(_ reasonVi: String, _ reasonEn: String) -> IntakeError {
        IntakeError(
            .invalidFileName,
            vi: "Tên tệp không hợp lệ: \(reasonVi). Hãy đổi tên tệp (chỉ dùng chữ, số, dấu cách, gạch ngang, dấu chấm) rồi gửi lại.",
            en: "Invalid file name: \(reasonEn). Rename the file (letters, digits, spaces, dashes, dots) and submit it again.",
            field: "file_name")
    }

    static let notARegularFile = IntakeError(
        .notARegularFile,
        vi: "Đây không phải là một tệp thông thường (có thể là lối tắt, thư mục hoặc thiết bị). Hãy sao chép chính tệp văn bản vào thư mục.",
        en: "This is not a regular file (a link, folder or device). Copy the document file itself into the folder.")

    static func unreadableFile(_ reason: String) -> IntakeError {
        IntakeError(
            .unreadableFile,
            vi: "Không đọc được tệp (\(reason)). Hãy kiểm tra quyền truy cập của tệp rồi gửi lại.",
            en: "The file cannot be read (\(reason)). Check the file's permissions and submit it again.")
    }

    static func notAPDF(_ fileName: String, _ reasonVi: String, _ reasonEn: String) -> IntakeError {
        IntakeError(
            .notAPDF,
            vi: "Tệp \"\(fileName)\" không phải PDF hợp lệ: \(reasonVi). Hãy mở tệp bằng phần mềm đọc PDF để kiểm tra, xuất (hoặc in) lại ra PDF rồi gửi lại; nếu tệp không phải PDF, hãy đặt đúng đuôi tên tệp.",
            en: "\"\(fileName)\" is not a valid PDF: \(reasonEn). Open it in a PDF reader to check it, export (or print) it to PDF again and resubmit; if it is not a PDF, give it its right extension.")
    }

    static func encryptedPDF(_ fileName: String) -> IntakeError {
        IntakeError(
            .encryptedPDF,
            vi: "Tệp \"\(fileName)\" là PDF có đặt mật khẩu hoặc hạn chế quyền (mã hóa) nên không ký số được. Hãy gỡ mật khẩu, hoặc in lại ra một tệp PDF mới không đặt mật khẩu, rồi gửi lại.",
            en: "\"\(fileName)\" is a password-protected (encrypted) PDF and cannot be signed. Remove the password, or print it to a new PDF without one, and submit it again.")
    }

    static let fileStillBeingWritten = IntakeError(
        .fileStillBeingWritten,
        vi: "Tệp vẫn đang được ghi bởi một chương trình khác. Hệ thống sẽ tự tiếp nhận khi tệp được đóng.",
        en: "The file is still being written by another program. It will be taken automatically once it is closed.")

    static func incompleteUpload(expected: Int64, received: Int64) -> IntakeError {
        IntakeError(
            .incompleteUpload,
            vi: "Việc tải lên bị ngắt: nhận được \(received) trên \(expected) byte. Không có gì được lưu; hãy gửi lại.",
            en: "The upload was cut short: \(received) of \(expected) bytes arrived. Nothing was kept; submit again.")
    }

    static let idempotencyConflict = IntakeError(
        .idempotencyConflict,
        vi: "Khóa chống gửi trùng (Idempotency-Key) này đã được dùng cho một văn bản khác. Hãy dùng khóa mới cho văn bản mới.",
        en: "This Idempotency-Key was already used for a different document. Use a new key for a new document.")

    static func insufficientSpace(free: Int64, reserve: Int64) -> IntakeError {
        IntakeError(
            .insufficientSpace,
            vi: "Bộ nhớ của thiết bị sắp đầy (còn trống \(ByteCountText.format(free)), mức dự trữ tối thiểu \(ByteCountText.format(reserve))). Văn bản chưa được nhận; hệ thống sẽ nhận lại khi có chỗ trống. Hãy báo kỹ thuật viên.",
            en: "The box's storage is almost full (\(ByteCountText.format(free)) free, reserve \(ByteCountText.format(reserve))). The document was not taken; intake resumes when space is freed. Tell the technician.")
    }

    static let diskFull = IntakeError(
        .diskFull,
        vi: "Bộ nhớ của thiết bị đã đầy trong khi ghi văn bản. Phần đã ghi dở đã được xóa, không văn bản nào khác bị ảnh hưởng. Hãy báo kỹ thuật viên.",
        en: "The box's storage filled up while writing the document. The partial copy was discarded; no other document is affected. Tell the technician.")

    static func storeUnavailable(_ detail: String) -> IntakeError {
        IntakeError(
            .storeUnavailable,
            vi: "Kho lưu trữ văn bản tạm thời không sẵn sàng (\(detail)). Hãy thử lại sau ít phút.",
            en: "The document store is temporarily unavailable (\(detail)). Try again in a few minutes.")
    }
}

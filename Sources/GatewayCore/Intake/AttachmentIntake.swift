// The words and rules both doors share for attachments (phụ lục): an attachment's fault told
// with its name, and the message of a document whose attachments have not all arrived.

extension IntakeError {
    /// The same refusal, said of attachment `name`: the clerk must know which file to fix.
    func inAttachment(_ name: String) -> IntakeError {
        IntakeError(code, vi: "Tệp đính kèm \"\(name)\": \(messageVi)", en: "Attachment \"\(name)\": \(messageEn)", field: field)
    }

    static func missingAttachments(_ names: [String]) -> IntakeError {
        let listed = names.map { "\"\($0)\"" }.joined(separator: ", ")
        return IntakeError(
            .missingAttachment,
            vi: "Chưa có tệp đính kèm \(listed) mà thông tin kèm theo (\"attachments\") kể tên. Hãy chép tệp đó vào cùng thư mục (đúng tên), hoặc sửa danh sách \"attachments\".",
            en: "The attachment \(listed) named in the metadata (\"attachments\") has not arrived. Copy it into the same folder under that name, or correct the \"attachments\" list.",
            field: "attachments")
    }

    /// The text of `NAME.error.txt` beside a document that waits in the hot folder for its
    /// attachments: it is not refused (the file may still be on its way), only not taken yet.
    func waitingFileText(fileName: String) -> String {
        """
        Tệp "\(fileName)" đang chờ tệp đính kèm, chưa được tiếp nhận.
        Lý do: \(messageVi)

        The file "\(fileName)" is waiting for its attachments and has not been taken yet.
        Reason: \(messageEn)

        Mã lỗi / error code: \(code.rawValue)

        """
    }
}

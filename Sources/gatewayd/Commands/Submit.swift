// `gatewayd submit`: hand a document to the running daemon over the local API.
import ArgumentParser
import Foundation
import GatewayCore

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Gửi một văn bản vào hàng đợi / hand a document to the running daemon.",
        discussion: "Prints the new document's id once the document is durable.")

    @Argument(help: "The document file.") var file: String
    @Option(name: .customLong("to"), help: "Recipient agency code (mã định danh), e.g. 000.00.20.H13. Repeatable.") var recipients: [String] = []
    @Option(help: "Trích yếu / subject.") var subject: String?
    @Option(help: "Số / number.") var number: String?
    @Option(help: "Ký hiệu / notation, e.g. QĐ-UBND.") var notation: String?
    @Option(name: .customLong("type"), help: "Loại văn bản / document type.") var documentType: String?
    @Option(help: "0 Thường, 1 Khẩn, 2 Thượng khẩn, 3 Hỏa tốc, 4 Hỏa tốc hẹn giờ.") var priority: Int?
    @Option(name: .customLong("signer-name"), help: "Người ký / signer's full name.") var signerName: String?
    @Option(name: .customLong("signer-position"), help: "Chức vụ / signer's position.") var signerPosition: String?
    @Flag(help: "The file is already signed.") var signed = false
    @Option(name: .customLong("signature"), help: "A signature it needs on the box: leader, organization (repeatable; default [signing] signatures).")
    var signatures: [String] = []
    @Option(name: .customLong("name"), help: "File name to record (default: the file's own name).") var fileName: String?
    @Option(name: .customLong("idempotency-key"), help: "Retry-safe key: submitting again with it returns the first document.") var idempotencyKey: String?
    @Option(name: .customLong("attachment"), help: "Tệp đính kèm / an attachment (phụ lục), sent with the document. Repeatable, in order.") var attachments: [String] = []
    @Flag(help: "Print the whole document as JSON.") var json = false
    @OptionGroup var location: Location

    func run() async throws {
        var metadata = SubmissionMetadata(fileName: fileName ?? (file as NSString).lastPathComponent, signed: signed)
        metadata.recipients = recipients.isEmpty ? nil : recipients
        (metadata.subject, metadata.number, metadata.notation) = (subject, number, notation)
        (metadata.documentType, metadata.priority) = (documentType, priority)
        metadata.signatures = signatures.isEmpty ? nil : signatures
        if signerName != nil || signerPosition != nil {
            metadata.signer = SubmissionMetadata.Signer(fullName: signerName, position: signerPosition)
        }
        for path in [file] + attachments where !FileManager.default.isReadableFile(atPath: path) {
            throw CLI.fail("Không đọc được tệp \"\(path)\". / Cannot read the file \"\(path)\".")
        }
        // The attachments go first, under the submission's key (docs/local-api.md, "Attachments"):
        // one is made when none is given, since they are found by it.
        let key = idempotencyKey ?? (attachments.isEmpty ? nil : "cli-" + UUID().uuidString.lowercased())
        let names = attachments.map { ($0 as NSString).lastPathComponent }
        metadata.attachments = names.isEmpty ? nil : names
        let view = try await CLI.call {
            let client = LocalAPIClient(socketPath: try location.resolve().socketPath)
            if let key {
                for (path, name) in zip(attachments, names) { _ = try await client.stageAttachment(file: path, name: name, idempotencyKey: key) }
            }
            return try await client.submit(file: file, metadata: metadata, idempotencyKey: key)
        }
        if json { try CLI.printJSON(view) } else { print(view.document.id) }
    }
}

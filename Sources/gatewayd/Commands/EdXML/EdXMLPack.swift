// `gatewayd edxml pack`: a document package from files.
import ArgumentParser
import DocumentModel
import EdXML
import Foundation
import GatewayCore
import Signing
import X509

extension EdXMLCommand {
    struct Pack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Đóng gói văn bản / build a document package from files.")
        @Option(name: .customLong("from"), help: "Sender's agency code (mã định danh), e.g. 000.00.20.H13.") var from: String
        @Option(name: .customLong("from-name"), help: "Sender's name.") var fromName: String?
        @Option(name: .customLong("to"), help: "Recipient agency code. Repeatable.") var to: [String] = []
        @Option(help: "Trích yếu / subject.") var subject: String
        @Option(help: "Số / number.") var number: String
        @Option(help: "Ký hiệu / notation, e.g. QĐ-UBND.") var notation: String
        @Option(name: .customLong("type"), help: "Tên loại văn bản / document type name, e.g. Quyết định.") var typeName: String?
        @Option(help: "0 Thường, 1 Khẩn, 2 Thượng khẩn, 3 Hỏa tốc, 4 Hỏa tốc hẹn giờ.") var priority: Int?
        @Option(help: "Ngày ban hành / promulgation date yyyy/MM/dd (default: today in Vietnam).") var date: String?
        @Option(name: .customLong("signer-name"), help: "Người ký / signer's full name.") var signerName: String?
        @Option(name: .customLong("signer-position"), help: "Chức vụ / signer's position.") var signerPosition: String?
        @Argument(help: "Files to attach.") var files: [String] = []
        @Option(help: "Output package file.") var out: String
        @OptionGroup var signing: SignerOptions

        func validate() throws {
            if to.isEmpty { throw ValidationError("cần ít nhất một --to / at least one --to is required") }
            if files.isEmpty { throw ValidationError("cần ít nhất một tệp / at least one file is required") }
            if let priority, Priority(rawValue: priority) == nil { throw ValidationError("--priority: 0–4") }
        }

        func run() async throws {
            let signer = try signing.makeSigner()
            let date = date ?? EdXMLDate(Date()).description
            let code = DocumentCode(number: number, notation: notation)
            let attachments = files.map { path in
                AttachmentInfo(contentId: UUID().uuidString.lowercased(), name: (path as NSString).lastPathComponent,
                               contentType: Self.contentType(of: path))
            }
            let package = DocumentPackage(
                header: MessageHeader(
                    from: Organization(organId: from, organName: fromName),
                    to: to.map { Organization(organId: $0) },
                    code: code,
                    promulgationInfo: PromulgationInfo(date: date),
                    documentType: DocumentType(typeName: typeName),
                    subject: subject,
                    signerInfo: (signerName != nil || signerPosition != nil) ? SignerInfo(position: signerPosition, fullName: signerName) : nil,
                    otherInfo: OtherInfo(priority: priority ?? 0),
                    documentId: MessageHeader.composedDocumentId(from: from, date: date, code: code)),
                traces: [TraceHeader(organId: from, timestamp: EdXMLTimestamp(Date()).description)],
                business: Business(docType: .new),
                attachments: attachments)
            try await EdXMLCommand.run {
                try await PackageWriter.write(package, attachmentFiles: files, to: out, signer: signer)
            }
            print(out)
        }

        static func contentType(of path: String) -> String { AttachmentInfo.contentType(forFileName: path) }
    }
}

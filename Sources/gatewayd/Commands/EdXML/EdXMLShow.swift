// `gatewayd edxml show`: a package's content, findings, attachments and signatures.
import ArgumentParser
import DocumentModel
import EdXML
import Foundation
import GatewayCore
import Signing
import X509

extension EdXMLCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Xem gói tin / show a package's content, findings, attachments and signatures.")
        @Argument(help: "The package file.") var package: String
        @Flag(help: "JSON output.") var json = false

        func run() async throws {
            let result = try await EdXMLCommand.run { try await PackageReader.read(path: package, checkSignatures: true) }
            if json { try CLI.printJSON(PackageView(result)); return }
            switch result.package {
            case .document(let document):
                let h = document.header
                print("Văn bản / document \(h.code) — \(h.documentType.typeName ?? h.documentType.type ?? "")")
                print("  Trích yếu / subject: \(h.subject)")
                print("  Từ / from: \(h.from.organId) \(h.from.organName ?? "")")
                for to in h.to { print("  Đến / to: \(to.organId) \(to.organName ?? "")") }
                print("  Ngày / date: \(h.promulgationInfo.date ?? "—"); mã / DocumentId: \(h.documentId ?? "—")")
                if let priority = h.otherInfo.priority { print("  Độ khẩn / priority: \(Priority(rawValue: priority)?.vietnameseName ?? "\(priority)")") }
                if let business = document.business { print("  Nghiệp vụ / business: \(business.docType)") }
                for attachment in result.attachments {
                    print("  Tệp / file: \(attachment.info.name) (\(attachment.info.contentType), \(attachment.size) bytes, sha256 \(attachment.sha256))")
                }
            case .status(let status):
                print("Trạng thái / status \(status.statusCode) từ / from \(status.from.organId) lúc / at \(status.timestamp)")
                print("  Về văn bản / for: \(status.responseFor.documentId ?? status.responseFor.code ?? "")")
                if let description = status.description { print("  Mô tả / description: \(description)") }
            }
            for finding in result.findings { print("  ! \(finding)") }
            Verify.printSignatures(result.signatures ?? [])
        }
    }
}

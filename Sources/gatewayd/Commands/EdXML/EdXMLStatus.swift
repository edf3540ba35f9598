// `gatewayd edxml status`: a status package replying to a received document.
import ArgumentParser
import DocumentModel
import EdXML
import Foundation
import GatewayCore
import Signing
import X509

extension EdXMLCommand {
    struct StatusCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Tạo gói tin trạng thái / build a status package replying to a received document.")
        @Option(name: .customLong("for"), help: "The document package the status is about.") var document: String
        @Option(help: "Two-digit status code: 01 arrived, 02 refused, 03 accepted, 04 assigned, 05 in progress, 06 finished, 13, 15, 16.") var code: String
        @Option(name: .customLong("from"), help: "Our agency code (default: the document's first recipient).") var from: String?
        @Option(help: "Mô tả / description (the reason, for 02).") var description: String?
        @Option(help: "Người xử lý / staff name.") var staff: String?
        @Option(help: "Output status package.") var out: String
        @OptionGroup var signing: SignerOptions

        func run() async throws {
            guard let statusCode = StatusCode(rawValue: code) else { throw ValidationError("--code: hai chữ số / two digits, e.g. 01") }
            let signer = try signing.makeSigner()
            let result = try await EdXMLCommand.run { try await PackageReader.read(path: document) }
            guard case .document(let original) = result.package else {
                throw CLI.fail("\(document) là gói tin trạng thái, không phải văn bản / is a status package, not a document")
            }
            let h = original.header
            let status = StatusPackage(
                from: Organization(organId: from ?? h.to[0].organId),
                responseFor: ResponseFor(organId: h.from.organId, code: h.code.description, promulgationDate: h.promulgationInfo.date,
                                         documentId: h.documentId),
                staffInfo: staff.map { StaffInfo(staff: $0) },
                statusCode: statusCode, description: description ?? statusCode.name,
                timestamp: EdXMLTimestamp(Date()).description)
            try await EdXMLCommand.run { try await PackageWriter.write(status, to: out, signer: signer) }
            print(out)
        }
    }
}

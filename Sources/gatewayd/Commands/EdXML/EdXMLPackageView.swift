// What `gatewayd edxml show --json` and `unpack` (edxml.json) print.
import ArgumentParser
import DocumentModel
import EdXML
import Foundation
import GatewayCore
import Signing
import X509

extension EdXMLCommand {
    /// What `show --json` and `unpack` (edxml.json) print.
    struct PackageView: Encodable {
        var kind: String
        var document: DocumentPackage?
        var status: StatusPackage?
        var findings: [Finding]
        var attachments: [ReceivedAttachment]
        var signatures: [SignatureCheck]?

        init(_ result: ReadResult) {
            switch result.package {
            case .document(let document): kind = "document"; self.document = document
            case .status(let status): kind = "status"; self.status = status
            }
            findings = result.findings
            attachments = result.attachments
            signatures = result.signatures
        }
    }
}

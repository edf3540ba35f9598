import Crypto
import DocumentModel
import DocumentSigning
import Foundation
import Signing

/// Signs receipts with the hub's key (a key file: the hub is a server, not a person).
package struct ReceiptSigner: Sendable {
    let signer: SoftwareKeySigner
    let hub: RelayReceipt.Hub

    package init(keyFile: String, chainFile: String, hubCode: String, hubName: String) throws {
        signer = try SoftwareKeySigner(keyFile: keyFile, chainFile: chainFile)
        hub = RelayReceipt.Hub(code: hubCode, name: hubName)
    }

    /// `auditHead`: the submitting box's audit anchor, when it sent one (docs/protocol.md, "Audit anchors").
    package func sign(summary: PackageSummary, sha256: String, size: Int64, receivedAt: Date, auditHead: AuditAnchor? = nil) async throws -> [UInt8] {
        let content = try RelayReceipt(key: summary.key, kind: summary.kind.rawValue, sha256: sha256, size: size, from: summary.from,
                                         receivedAt: HubTime.wire(receivedAt), hub: hub, auditHead: auditHead).encoded()
        guard let algorithm = signer.keyType.algorithms.first else { throw SignerError.algorithmNotSupported(.ecdsaSHA256, key: signer.keyType) }
        let digest = algorithm.digest.hash(content)
        return try await CMSSignedDataBuilder.sign(contentDigest: digest, signer: signer, algorithm: algorithm, profile: .cades,
                                                   signingTime: receivedAt, encapsulatedContent: content)
    }
}

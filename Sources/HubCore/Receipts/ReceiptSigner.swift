import Crypto
import DocumentSigning
import Foundation
import Signing

/// What a receipt says (docs/protocol.md, "Receipts"): encoded as JSON and carried inside a CMS
/// SignedData the hub signs, so the box — or openssl — can check it without our code.
public struct ReceiptContent: Codable, Sendable, Equatable {
    public struct Hub: Codable, Sendable, Equatable {
        public var code: String
        public var name: String
    }

    public var type = "hubd-receipt/1"
    public var key: String
    public var kind: String
    public var sha256: String
    public var size: Int64
    public var from: String
    public var receivedAt: String
    public var hub: Hub

    enum CodingKeys: String, CodingKey { case type, key, kind, sha256, size, from, receivedAt = "received_at", hub }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        // Sorted keys and unescaped slashes: the same content always gives the same bytes, and a
        // DocumentId such as "125/QĐ-UBND" reads as written.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}

/// Signs receipts with the hub's key (a key file: the hub is a server, not a person).
public struct ReceiptSigner: Sendable {
    let signer: SoftwareKeySigner
    let hub: ReceiptContent.Hub

    public init(keyFile: String, chainFile: String, hubCode: String, hubName: String) throws {
        signer = try SoftwareKeySigner(keyFile: keyFile, chainFile: chainFile)
        hub = ReceiptContent.Hub(code: hubCode, name: hubName)
    }

    public func sign(summary: PackageSummary, sha256: String, size: Int64, receivedAt: Date) async throws -> [UInt8] {
        let content = try ReceiptContent(key: summary.key, kind: summary.kind.rawValue, sha256: sha256, size: size, from: summary.from,
                                         receivedAt: HubTime.wire(receivedAt), hub: hub).encoded()
        guard let algorithm = signer.keyType.algorithms.first else { throw SignerError.algorithmNotSupported(.ecdsaSHA256, key: signer.keyType) }
        let digest = algorithm.digest.hash(content)
        return try await CMSSignedDataBuilder.sign(contentDigest: digest, signer: signer, algorithm: algorithm, profile: .cades,
                                                   signingTime: receivedAt, encapsulatedContent: content)
    }
}

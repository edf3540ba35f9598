import Crypto
import DocumentModel
import DocumentSigning
import Foundation
import X509

/// The hub's receipt (docs/protocol.md "Receipts"): a CMS SignedData with the JSON encapsulated,
/// signed by the hub's receipt key. The box keeps it as its proof of delivery only after checking
/// the signature and chain against the hub CA it trusts, and the key, digest and size against what
/// it sent.
package enum ReceiptVerifier {
    /// What was sent, to compare the receipt with.
    package struct Expectation: Sendable {
        package var key: String
        package var sha256: String
        package var size: Int64
        package var from: String

        package init(key: String, sha256: String, size: Int64, from: String) {
            self.key = key
            self.sha256 = sha256
            self.size = size
            self.from = from
        }
    }

    package static func verify(_ der: [UInt8], expected: Expectation, hubRoots: [Certificate], now: Date = Date()) async throws(RelayError) -> RelayReceipt {
        let receipt = try await signedContent(der, hubRoots: hubRoots, now: now)
        guard receipt.key == expected.key else { throw refuse("khóa \(receipt.key) ≠ \(expected.key)", "key \(receipt.key) ≠ \(expected.key)") }
        guard receipt.sha256.lowercased() == expected.sha256.lowercased() else {
            throw refuse("SHA-256 khác gói đã gửi", "SHA-256 \(receipt.sha256) ≠ sent \(expected.sha256)")
        }
        guard receipt.size == expected.size else { throw refuse("kích thước \(receipt.size) ≠ \(expected.size)", "size \(receipt.size) ≠ \(expected.size)") }
        guard receipt.from == expected.from else { throw refuse("người gửi \(receipt.from)", "from \(receipt.from) ≠ \(expected.from)") }
        return receipt
    }

    static func refuse(_ vi: String, _ en: String) -> RelayError {
        RelayError(kind: .untrusted, code: .receiptInvalid, vi: "Biên nhận của cấp trên không hợp lệ: \(vi)",
                   en: "The hub's receipt is not valid: \(en)")
    }

    /// The receipt's content, once its CMS signature and chain check out against `hubRoots` at
    /// `now`: what both the relay (against what it sent) and `audit verify` (for its anchor) read.
    package static func signedContent(_ der: [UInt8], hubRoots: [Certificate], now: Date) async throws(RelayError) -> RelayReceipt {
        let parsed: ParsedSignedData
        do { parsed = try CMSSignedDataParser.parse(der) } catch { throw refuse("không đọc được CMS (\(error))", "unreadable CMS (\(error))") }
        guard let content = parsed.encapsulatedContent else { throw refuse("không có nội dung", "no encapsulated content") }
        let result = await SignatureChecks.verify(cms: der, name: "receipt", contentDigest: { $0.hash(content) },
                                                  claimedTime: nil, trustRoots: hubRoots, now: now)
        guard result.verdict == .valid else {
            let failed = result.checks.filter { $0.outcome != .passed && $0.outcome != .notChecked }.map(\.message).joined(separator: "; ")
            throw refuse("chữ ký \(result.verdict.rawValue): \(failed)", "signature \(result.verdict.rawValue): \(failed)")
        }
        let receipt: RelayReceipt
        do { receipt = try JSONDecoder().decode(RelayReceipt.self, from: Data(content)) } catch {
            throw refuse("nội dung không phải JSON biên nhận", "content is not a receipt JSON (\(error))")
        }
        guard receipt.type == "hubd-receipt/1" else { throw refuse("loại \(receipt.type)", "type \(receipt.type)") }
        return receipt
    }
}

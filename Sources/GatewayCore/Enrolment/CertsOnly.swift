import Foundation
import SwiftASN1
import X509

/// EST's answers (RFC 7030 §4.1.3, §4.2.3): base64 of a degenerate CMS SignedData, "certs-only"
/// (RFC 5751 §3.8), which carries certificates and no signer. Only the certificates are read: the
/// TLS channel, checked against `[upstream] ca_file`, is what vouches for them.
package enum CertsOnly {
    static let signedData: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 7, 2]

    /// The certificates in the order the hub put them (the issued one first), from the body as
    /// received: base64 with any line breaks, or DER itself.
    package static func certificates(fromBody body: [UInt8]) throws(EnrolmentError) -> [Certificate] {
        let text = String(decoding: body, as: UTF8.self).filter { !$0.isWhitespace }
        let der: [UInt8]
        if let decoded = Data(base64Encoded: text), !decoded.isEmpty { der = Array(decoded) } else if body.first == 0x30 { der = body } else {
            throw .badAnswer("không phải base64 / not base64")
        }
        return try certificates(der: der)
    }

    /// ContentInfo { contentType signedData, [0] EXPLICIT SignedData { version, digestAlgorithms,
    /// encapContentInfo, [0] IMPLICIT certificates, [1] crls OPTIONAL, signerInfos } }.
    package static func certificates(der: [UInt8]) throws(EnrolmentError) -> [Certificate] {
        do {
            let root = try DER.parse(der)
            guard case .constructed(let info) = root.content else { throw EnrolmentError.badAnswer("ContentInfo") }
            var parts = info.makeIterator()
            guard let type = parts.next(), try ASN1ObjectIdentifier(derEncoded: type) == signedData,
                  let wrapped = parts.next(), wrapped.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific),
                  case .constructed(let inner) = wrapped.content, let signed = inner.first(where: { _ in true }),
                  case .constructed(let fields) = signed.content else {
                throw EnrolmentError.badAnswer("không phải SignedData / not a CMS SignedData")
            }
            var certificates: [Certificate] = []
            for field in fields where field.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
                guard case .constructed(let items) = field.content else { continue }
                for item in items where item.identifier == .sequence {
                    certificates.append(try Certificate(derEncoded: item))
                }
            }
            guard !certificates.isEmpty else { throw EnrolmentError.badAnswer("không có chứng thư số nào / no certificate in it") }
            return certificates
        } catch let error as EnrolmentError {
            throw error
        } catch {
            throw .badAnswer("PKCS#7: \(error)")
        }
    }
}

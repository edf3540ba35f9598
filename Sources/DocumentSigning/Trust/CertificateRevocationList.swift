import Foundation
import SwiftASN1
import X509

/// An X.509 CRL (RFC 5280 §5), read with SwiftASN1 — swift-certificates has no CRL type. Pure:
/// parsed whole from bytes the fetcher bounded in size.
///
/// ```
/// CertificateList ::= SEQUENCE { tbsCertList TBSCertList, signatureAlgorithm AlgorithmIdentifier,
///                                signatureValue BIT STRING }
/// TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature AlgorithmIdentifier, issuer Name,
///   thisUpdate Time, nextUpdate Time OPTIONAL,
///   revokedCertificates SEQUENCE OF SEQUENCE { userCertificate CertificateSerialNumber,
///     revocationDate Time, crlEntryExtensions Extensions OPTIONAL } OPTIONAL,
///   crlExtensions [0] EXPLICIT Extensions OPTIONAL }
/// ```
package struct CertificateRevocationList: Sendable {
    package let issuer: DistinguishedName
    package let thisUpdate: Date
    package let nextUpdate: Date?
    /// Serial number (content bytes of the INTEGER) → revocation date.
    package let revoked: [[UInt8]: Date]
    let signedBytes: [UInt8]
    let signatureAlgorithm: ParsedSignedData.AlgorithmIdentifier
    let signature: [UInt8]

    /// DER, or PEM (`X509 CRL`), as distribution points serve either.
    package init(bytes: [UInt8]) throws {
        var der = bytes
        if bytes.starts(with: Array("-----BEGIN".utf8)), let document = try? PEMDocument(pemString: String(decoding: bytes, as: UTF8.self)) {
            der = document.derBytes
        }
        do {
            let root = try DER.parse(der)
            let parts = try CMSSignedDataParser.children(root, "CertificateList")
            guard parts.count == 3 else { throw CMSParseError.malformed("CertificateList has \(parts.count) fields") }
            signedBytes = Array(parts[0].encodedBytes)
            signatureAlgorithm = try CMSSignedDataParser.algorithmIdentifier(parts[1])
            signature = Array(try ASN1BitString(derEncoded: parts[2]).bytes)
            var fields = try CMSSignedDataParser.children(parts[0], "TBSCertList")[...]
            if fields.first?.identifier == .integer { fields = fields.dropFirst() }
            guard fields.count >= 3 else { throw CMSParseError.malformed("TBSCertList has too few fields") }
            issuer = try DistinguishedName(derEncoded: fields[fields.startIndex + 1])
            thisUpdate = try CMSSignedDataParser.date(fields[fields.startIndex + 2])
            fields = fields.dropFirst(3)
            if let next = fields.first, next.identifier == .utcTime || next.identifier == .generalizedTime {
                nextUpdate = try CMSSignedDataParser.date(next)
                fields = fields.dropFirst()
            } else {
                nextUpdate = nil
            }
            var revoked: [[UInt8]: Date] = [:]
            if let list = fields.first, list.identifier == .sequence {
                for entry in try CMSSignedDataParser.children(list, "revokedCertificates") {
                    let entryParts = try CMSSignedDataParser.children(entry, "revoked entry")
                    guard entryParts.count >= 2, case .primitive(let serial) = entryParts[0].content else {
                        throw CMSParseError.malformed("bad revoked entry")
                    }
                    revoked[Array(serial)] = try CMSSignedDataParser.date(entryParts[1])
                }
            }
            self.revoked = revoked
        } catch let error as CMSParseError {
            throw error
        } catch {
            throw CMSParseError.malformed("CRL: \(error)")
        }
    }

    /// Whether `issuer` signed this list (the CRL's signature over its TBSCertList).
    package func isSigned(by issuer: Certificate) -> Bool {
        guard let scheme = try? SignatureChecks.scheme(signatureAlgorithm, digest: .sha256) else { return false }
        return SignatureChecks.isValidSignature(signature, over: signedBytes, scheme: scheme, key: issuer.publicKey)
    }

    /// The revocation date of a certificate on the list, nil when it is not on it.
    package func revocationDate(of certificate: Certificate) -> Date? {
        revoked[Array(certificate.serialNumber.bytes)]
    }
}

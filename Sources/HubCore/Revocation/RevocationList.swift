import DocumentSigning
import Foundation
import SwiftASN1
import X509

/// A certificate revocation list (RFC 5280 § 5), read strictly and only as far as hubd needs:
/// who signed it, and which serial numbers it revokes when. swift-certificates 1.21 has no CRL
/// type, so this is the one place that reads the format.
///
///     CertificateList  ::=  SEQUENCE  {
///          tbsCertList          TBSCertList,
///          signatureAlgorithm   AlgorithmIdentifier,
///          signatureValue       BIT STRING  }
///     TBSCertList  ::=  SEQUENCE  {
///          version                 Version OPTIONAL,  -- if present, MUST be v2
///          signature               AlgorithmIdentifier,
///          issuer                  Name,
///          thisUpdate              Time,
///          nextUpdate              Time OPTIONAL,
///          revokedCertificates     SEQUENCE OF SEQUENCE  {
///               userCertificate         CertificateSerialNumber,
///               revocationDate          Time,
///               crlEntryExtensions      Extensions OPTIONAL } OPTIONAL,
///          crlExtensions           [0]  EXPLICIT Extensions OPTIONAL }
struct RevocationList: Sendable, Equatable {
    let issuer: DistinguishedName
    let thisUpdate: Date
    let nextUpdate: Date?
    /// Serial number → revocation date.
    let revoked: [Certificate.SerialNumber: Date]
    let signatureAlgorithm: Certificate.SignatureAlgorithm
    let signatureBytes: ASN1BitString
    /// The DER of tbsCertList, which the signature covers.
    let signedBytes: ArraySlice<UInt8>

    init(derEncoded bytes: [UInt8]) throws {
        let root = try DER.parse(bytes)
        (issuer, thisUpdate, nextUpdate, revoked, signatureAlgorithm, signatureBytes, signedBytes) =
            try DER.sequence(root, identifier: .sequence) { nodes in
                guard let tbs = nodes.next() else { throw Self.malformed("no tbsCertList") }
                let outerAlgorithm = try Self.algorithm(nodes.next())
                let signature = try ASN1BitString(derEncoded: try Self.node(nodes.next()))
                let body = try DER.sequence(tbs, identifier: .sequence) { fields in try Self.body(&fields) }
                guard outerAlgorithm == body.algorithm else { throw Self.malformed("two different signature algorithms") }
                return (body.issuer, body.thisUpdate, body.nextUpdate, body.revoked, outerAlgorithm, signature, tbs.encodedBytes)
            }
    }

    /// One CRL in DER, or any number of `X509 CRL` blocks in PEM (one per CA of `client_ca`).
    static func parseFile(_ bytes: [UInt8]) throws -> [RevocationList] {
        guard let text = String(bytes: bytes, encoding: .utf8), text.contains("-----BEGIN") else {
            return [try RevocationList(derEncoded: bytes)]
        }
        let documents = try PEMDocument.parseMultiple(pemString: text)
        guard !documents.isEmpty, documents.allSatisfy({ $0.discriminator == "X509 CRL" }) else {
            throw malformed("a PEM file of X509 CRL blocks only is expected")
        }
        return try documents.map { try RevocationList(derEncoded: $0.derBytes) }
    }

    /// Whether `certificate` (whose subject must be this list's issuer) signed it.
    func isSigned(by certificate: Certificate) -> Bool {
        guard certificate.subject == issuer,
              let signature = try? Certificate.Signature(signatureAlgorithm: signatureAlgorithm, signatureBytes: signatureBytes)
        else { return false }
        return certificate.publicKey.isValidSignature(signature.rawRepresentation, for: signedBytes, signatureAlgorithm: signatureAlgorithm)
    }

    /// The revocation date of `certificate` if this list, from its issuer, lists it.
    func revocationDate(of certificate: Certificate) -> Date? {
        certificate.issuer == issuer ? revoked[certificate.serialNumber] : nil
    }

    // MARK: reading

    private typealias Body = (algorithm: Certificate.SignatureAlgorithm, issuer: DistinguishedName, thisUpdate: Date,
                              nextUpdate: Date?, revoked: [Certificate.SerialNumber: Date])

    private static func body(_ fields: inout ASN1NodeCollection.Iterator) throws -> Body {
        var rest: [ASN1Node] = []
        while let node = fields.next() { rest.append(node) }
        var index = 0
        func next() -> ASN1Node? { index < rest.count ? rest[index] : nil }
        if let version = next(), version.identifier == .integer {
            guard try Int(derEncoded: version) == 1 else { throw malformed("version is not v2") }
            index += 1
        }
        let algorithm = try Self.algorithm(next())
        index += 1
        let issuer = try DistinguishedName(derEncoded: try node(next()))
        index += 1
        let thisUpdate = try CMSSignedDataParser.date(try node(next()))
        index += 1
        var nextUpdate: Date?
        if let candidate = next(), candidate.identifier == .utcTime || candidate.identifier == .generalizedTime {
            nextUpdate = try CMSSignedDataParser.date(candidate)
            index += 1
        }
        var revoked: [Certificate.SerialNumber: Date] = [:]
        if let entries = next(), entries.identifier == .sequence {
            try DER.sequence(entries, identifier: .sequence) { list in
                while let entry = list.next() {
                    try DER.sequence(entry, identifier: .sequence) { parts in
                        let serial = try ArraySlice<UInt8>(derEncoded: try node(parts.next()))
                        revoked[Certificate.SerialNumber(bytes: serial)] = try CMSSignedDataParser.date(try node(parts.next()))
                        _ = parts.next()  // crlEntryExtensions: the reason is for people, the date is what counts
                    }
                }
            }
            index += 1
        }
        // crlExtensions ([0]) carry the CRL number and key identifiers, which hubd does not need;
        // a delta CRL (only the changes since a base) is refused, since read as a whole list it
        // would un-revoke every certificate of the base.
        if let extensions = next(), extensions.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            if extensions.encodedBytes.containsSubsequence(deltaIndicator) { throw malformed("a delta CRL is not supported") }
            index += 1
        }
        guard index == rest.count else { throw malformed("unexpected fields in tbsCertList") }
        return (algorithm, issuer, thisUpdate, nextUpdate, revoked)
    }

    /// The DER of OID 2.5.29.27 (deltaCRLIndicator).
    private static let deltaIndicator: [UInt8] = [0x06, 0x03, 0x55, 0x1D, 0x1B]

    private static func node(_ node: ASN1Node?) throws -> ASN1Node {
        guard let node else { throw malformed("a field is missing") }
        return node
    }

    /// The algorithms swift-certificates can check, by OID (parameters are ignored: RSA's NULL may
    /// be present or absent, RFC 4055 § 5).
    static let algorithms: [(ASN1ObjectIdentifier, Certificate.SignatureAlgorithm)] = [
        ([1, 2, 840, 10045, 4, 3, 2], .ecdsaWithSHA256), ([1, 2, 840, 10045, 4, 3, 3], .ecdsaWithSHA384),
        ([1, 2, 840, 10045, 4, 3, 4], .ecdsaWithSHA512), ([1, 2, 840, 113549, 1, 1, 11], .sha256WithRSAEncryption),
        ([1, 2, 840, 113549, 1, 1, 12], .sha384WithRSAEncryption), ([1, 2, 840, 113549, 1, 1, 13], .sha512WithRSAEncryption),
        ([1, 3, 101, 112], .ed25519),
    ]

    private static func algorithm(_ node: ASN1Node?) throws -> Certificate.SignatureAlgorithm {
        let oid = try DER.sequence(try Self.node(node), identifier: .sequence) { parts in
            let oid = try ASN1ObjectIdentifier(derEncoded: try Self.node(parts.next()))
            _ = parts.next()
            return oid
        }
        guard let algorithm = algorithms.first(where: { $0.0 == oid })?.1 else { throw malformed("unsupported signature algorithm \(oid)") }
        return algorithm
    }

    static func malformed(_ reason: String) -> ASN1Error {
        ASN1Error.invalidASN1Object(reason: "CRL: \(reason)")
    }
}

extension ArraySlice where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard count >= needle.count else { return false }
        return indices.dropLast(needle.count - 1).contains { self[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}

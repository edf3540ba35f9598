import Crypto
import Foundation
import SwiftASN1
import X509

/// Certificates for the rules, made in memory by swift-certificates: a subject as a list of
/// (attribute, value) pairs, so a test names exactly the UID, serialNumber, CN and O it means.
enum TestCertificates {
    static let uid: ASN1ObjectIdentifier = [0, 9, 2342, 19_200_300, 100, 1, 1]
    static let serialNumber: ASN1ObjectIdentifier = [2, 5, 4, 5]
    static let cn = ASN1ObjectIdentifier.RDNAttributeType.commonName
    static let o = ASN1ObjectIdentifier.RDNAttributeType.organizationName

    /// 1 June 2026, 09:00 in Vietnam.
    static let now = Date(timeIntervalSince1970: 1_780_279_200)

    static func subject(_ attributes: [(ASN1ObjectIdentifier, String)]) -> DistinguishedName {
        DistinguishedName(attributes.map { RelativeDistinguishedName(.init(type: $0.0, utf8String: $0.1)) })
    }

    /// Valid from a day before `now` to a year after unless told otherwise; key usage for
    /// signatures unless `keyUsage` says otherwise (nil: no key usage extension at all).
    static func make(_ attributes: [(ASN1ObjectIdentifier, String)],
                     notBefore: Date = now.addingTimeInterval(-86_400), notAfter: Date = now.addingTimeInterval(365 * 86_400),
                     keyUsage: KeyUsage? = KeyUsage(digitalSignature: true, nonRepudiation: true)) throws -> Certificate {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        var extensions = Certificate.Extensions()
        if let keyUsage { try extensions.append(Certificate.Extension(keyUsage, critical: true)) }
        return try Certificate(version: .v3, serialNumber: .init(), publicKey: key.publicKey,
                               notValidBefore: notBefore, notValidAfter: notAfter,
                               issuer: subject([(cn, "CA thử nghiệm")]), subject: subject(attributes),
                               signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: key)
    }

    static let leaderCCCD = "CCCD:001234567890"
    static let leader = [(uid, leaderCCCD), (cn, "Nguyễn Văn An")]
    static let communeMST = "0401234567"
    static let commune = [(uid, "MST:\(communeMST)"), (cn, "UBND xã Hòa Tiến"), (o, "UBND xã Hòa Tiến")]
}

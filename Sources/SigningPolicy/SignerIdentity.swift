import Foundation
import SwiftASN1
import X509

/// Whose certificate this is — a person's or an organization's — read from its subject the way
/// Vietnamese CAs write it (docs/signing.md, "Whose certificate").
package struct SignerIdentity: Hashable, Sendable {
    package enum Kind: String, Sendable, Hashable {
        case person
        case organization
    }

    /// The subject attributes an identifier is read from, in the order they are trusted.
    package enum Source: String, Sendable, Hashable {
        /// userId, 0.9.2342.19200300.100.1.1: where VNPT, Viettel, BKAV, FPT… put `CCCD:`/`MST:`.
        case uid = "UID"
        /// serialNumber, 2.5.4.5: used by some CAs instead of UID.
        case serialNumber
        /// commonName: a few CAs append the identifier to the name.
        case commonName = "CN"
    }

    package static let uidAttribute: ASN1ObjectIdentifier = [0, 9, 2342, 19_200_300, 100, 1, 1]
    package static let serialNumberAttribute: ASN1ObjectIdentifier = [2, 5, 4, 5]

    package let kind: Kind
    /// The identifier that decides: the first personal one if there is any, else the first
    /// organizational one (UID before serialNumber before CN).
    package let identifier: SubjectIdentifier
    package let source: Source
    /// Every identifier the subject carries (a person's certificate "of an organization" carries
    /// the person's CCCD and the organization's MST).
    package let identifiers: [SubjectIdentifier]
    /// The CN without an identifier appended to it: the name to show.
    package let displayName: String
    package let commonName: String?
    package let organizationName: String?

    package init(certificate: Certificate) throws(SigningRefusal) {
        try self.init(subject: certificate.subject)
    }

    package init(subject: DistinguishedName) throws(SigningRefusal) {
        var found: [(SubjectIdentifier, Source)] = []
        var malformed: [String] = []
        var commonName: String?, organizationName: String?
        for attribute in subject.flatMap({ $0 }) {
            guard let text = String(attribute.value) else { continue }
            switch attribute.type {
            case Self.uidAttribute, Self.serialNumberAttribute:
                let source: Source = attribute.type == Self.uidAttribute ? .uid : .serialNumber
                if let identifier = SubjectIdentifier(text) {
                    found.append((identifier, source))
                } else if SubjectIdentifier.looksLikeIdentifier(text) {
                    malformed.append("\(source.rawValue)=\(text)")
                }
            case .RDNAttributeType.commonName:
                commonName = commonName ?? text
            case .RDNAttributeType.organizationName:
                organizationName = organizationName ?? text
            default:
                continue
            }
        }
        var displayName = commonName ?? ""
        if let commonName {
            let inName = SubjectIdentifier.scan(commonName)
            found += inName.map { ($0.0, .commonName) }
            for (_, range) in inName.reversed() { displayName.removeSubrange(range) }
            displayName = displayName.trimmingCharacters(in: CharacterSet(charactersIn: " -–,;()[]").union(.whitespaces))
        }
        let order: [Source] = [.uid, .serialNumber, .commonName]
        found.sort { order.firstIndex(of: $0.1)! < order.firstIndex(of: $1.1)! }
        guard let chosen = found.first(where: { $0.0.kind.isPersonal }) ?? found.first else {
            if let first = malformed.first {
                throw SigningRefusal(.malformedIdentifier,
                                     "chứng thư ghi định danh không đúng dạng (\(first)) — hãy hỏi nhà cung cấp chứng thư",
                                     "the certificate's identifier is not in a known form (\(first)): ask the certificate's provider")
            }
            throw SigningRefusal(.noIdentifier,
                                 "chứng thư không có định danh cá nhân (CCCD/CMND/HC) hay của tổ chức (MST, mã định danh): không biết là của ai",
                                 "the certificate carries neither a personal identifier (CCCD/CMND/HC) nor an organization's (MST, agency code): whose it is cannot be told")
        }
        self.kind = chosen.0.kind.isPersonal ? .person : .organization
        self.identifier = chosen.0
        self.source = chosen.1
        var unique: [SubjectIdentifier] = []
        for (identifier, _) in found where !unique.contains(identifier) { unique.append(identifier) }
        self.identifiers = unique
        self.displayName = displayName.isEmpty ? chosen.0.description : displayName
        self.commonName = commonName
        self.organizationName = organizationName
    }
}

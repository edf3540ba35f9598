import DocumentModel
import Foundation

/// An identifier Vietnamese CAs write in a certificate's subject as `PREFIX:VALUE` (`CCCD:…`,
/// `MST:…`), or an agency code (mã định danh) alone. The same text names a leader in the
/// configuration, so it is parsed the same way in both places.
package struct SubjectIdentifier: Hashable, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Hashable, CaseIterable {
        /// Căn cước công dân / căn cước (Law 26/2023): the 12-digit personal number.
        case cccd
        /// Chứng minh nhân dân: 9 digits (old cards) or 12.
        case cmnd
        /// Hộ chiếu (passport): letters and digits.
        case passport
        /// Mã số thuế: 10 digits, or 10-3 for a dependent unit.
        case taxCode
        /// Mã quan hệ ngân sách (budget-relation code) of a state budget unit: 7 digits.
        case budgetCode
        /// Mã định danh of the national document exchange, `DDD.DD.DD.XNN`.
        case agencyCode

        package var prefix: String? {
            switch self {
            case .cccd: "CCCD"
            case .cmnd: "CMND"
            case .passport: "HC"
            case .taxCode: "MST"
            case .budgetCode: "MNS"
            case .agencyCode: nil
            }
        }

        package var isPersonal: Bool { self == .cccd || self == .cmnd || self == .passport }

        func accepts(_ value: String) -> Bool {
            let digits = value.allSatisfy(\.isASCIIDigit)
            switch self {
            case .cccd: return digits && value.count == 12
            case .cmnd: return digits && (value.count == 9 || value.count == 12)
            case .passport: return (6...15).contains(value.count) && value.allSatisfy { $0.isASCIIDigit || ("A"..."Z").contains($0) }
            case .taxCode:
                let parts = value.split(separator: "-", omittingEmptySubsequences: false)
                return parts[0].count == 10 && parts[0].allSatisfy(\.isASCIIDigit)
                    && (parts.count == 1 || (parts.count == 2 && parts[1].count == 3 && parts[1].allSatisfy(\.isASCIIDigit)))
            case .budgetCode: return digits && value.count == 7
            case .agencyCode: return AgencyCode.isValid(value)
            }
        }
    }

    package let kind: Kind
    package let value: String

    /// `CCCD:001234567890`, `MST:0101234567`, `000.00.20.H13`.
    package var description: String { kind.prefix.map { "\($0):\(value)" } ?? value }

    /// Reads one identifier as written in a subject attribute or the configuration: the prefix in
    /// any case, spaces around the colon and the value ignored. An agency code stands alone or
    /// after any prefix (CAs differ). Nil when the text is not one of the known forms.
    package init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.firstIndex(of: ":") else {
            guard Kind.agencyCode.accepts(trimmed) else { return nil }
            (kind, value) = (.agencyCode, trimmed)
            return
        }
        let prefix = trimmed[..<colon].trimmingCharacters(in: .whitespaces).uppercased()
        let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces).uppercased()
        if let kind = Kind.allCases.first(where: { $0.prefix == prefix }), kind.accepts(value) {
            (self.kind, self.value) = (kind, value)
        } else if Kind.agencyCode.accepts(value) {
            (self.kind, self.value) = (.agencyCode, value)
        } else {
            return nil
        }
    }

    package init?(kind: Kind, value: String) {
        guard kind.accepts(value) else { return nil }
        (self.kind, self.value) = (kind, value)
    }

    /// Whether the text starts like a known personal or tax prefix, so a value that does not
    /// parse is reported as a malformed identifier rather than ignored.
    static func looksLikeIdentifier(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":") else { return false }
        let prefix = text[..<colon].trimmingCharacters(in: .whitespaces).uppercased()
        return Kind.allCases.contains { $0.prefix == prefix }
    }

    /// The `PREFIX:VALUE` identifiers inside a longer text (a CN such as
    /// `Nguyễn Văn An - CCCD:001234567890`), with the ranges they occupy. Agency codes are not
    /// looked for here: a bare code in a CN is how the box's own TLS certificate is named.
    static func scan(_ text: String) -> [(SubjectIdentifier, Range<String.Index>)] {
        var found: [(SubjectIdentifier, Range<String.Index>)] = []
        let pattern = /(?i)\b(CCCD|CMND|HC|MST|MNS)\s*:\s*([0-9A-Za-z]+(?:-[0-9]{3})?)/
        for match in text.matches(of: pattern) {
            if let identifier = SubjectIdentifier("\(match.output.1):\(match.output.2)") {
                found.append((identifier, match.range))
            }
        }
        return found
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

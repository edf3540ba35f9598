import Foundation

/// The agency directory the hub publishes (`GET /v1/directory`): codes and names, so a clerk can
/// address a document as "UBND tỉnh Quảng Trị" instead of 000.00.00.H41.
///
/// Pure: matching a name against a list. A document sent to the wrong agency is a real harm, so
/// a name matches only when it is the whole name (ignoring case, spacing and Unicode
/// normalisation); anything else is refused with the closest names offered.
package enum AgencyDirectory {
    package struct Entry: Sendable, Codable, Equatable {
        package var code: AgencyCode
        package var name: String

        package init(code: AgencyCode, name: String) {
            self.code = code
            self.name = name
        }
    }

    package enum Resolution: Sendable, Equatable {
        case found(AgencyCode)
        /// No agency has this name; the names that share most words with it, best first.
        case unknown(suggestions: [Entry])
        /// Several agencies carry exactly this name (a directory error at the hub).
        case ambiguous([Entry])
    }

    /// Folds what a clerk may type differently: Unicode form (NFC), case, runs of spaces.
    package static func normalized(_ name: String) -> String {
        name.precomposedStringWithCanonicalMapping.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    package static func resolve(_ name: String, in entries: [Entry]) -> Resolution {
        let wanted = normalized(name)
        let exact = entries.filter { normalized($0.name) == wanted }
        if exact.count == 1 { return .found(exact[0].code) }
        if exact.count > 1 { return .ambiguous(exact) }
        let words = Set(wanted.split(separator: " "))
        let scored = entries.map { entry in (entry, Set(normalized(entry.name).split(separator: " ")).intersection(words).count) }
            .filter { $0.1 > 0 }
            .sorted { ($0.1, $1.0.name) > ($1.1, $0.0.name) }
        return .unknown(suggestions: scored.prefix(3).map(\.0))
    }
}

/// Where the intake looks names up (the store's copy of the hub's directory).
package protocol AgencyDirectorySource: Sendable {
    func directoryEntries() throws -> [AgencyDirectory.Entry]
}

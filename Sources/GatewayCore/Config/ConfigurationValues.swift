// What the configuration loader reads besides TOML: where a key stands in the file (for the
// line of each problem), and the value forms of its own (hub key pin, durations, HOST:PORT).
import Foundation

/// Finds the line a dotted key is written on. TOMLKit does not expose value positions, and a
/// technician needs a line number, so this scans the text the way TOML's grammar lays it out:
/// `[section]` and `[[array.of.tables]]` headers, then `key = value` lines (bare or quoted keys).
/// `signing.leaders[2].identity` is a key of the second `[[signing.leaders]]` table.
struct KeyLocator {
    let lines: [Substring]

    /// Any line ending counts (a file saved by Notepad has CRLF, which Swift sees as one character).
    init(text: String) { lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) }

    func line(of dottedKey: String) -> Int? {
        if let match = dottedKey.wholeMatch(of: /(.+)\[([0-9]+)\](?:\.(.+))?/), let occurrence = Int(match.output.2) {
            return line(of: match.output.3.map(String.init), inTable: String(match.output.1), occurrence: occurrence)
                ?? line(of: String(match.output.1))
        }
        let parts = dottedKey.split(separator: ".", maxSplits: 1).map(String.init)
        let (section, key) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts[0])
        var current = ""
        var sectionLine: Int?
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if let header = Self.header(line) {
                current = header.name
                if current == dottedKey { sectionLine = sectionLine ?? index + 1 }
                continue
            }
            guard current == section, let name = Self.keyName(line) else { continue }
            if name == key { return index + 1 }
            if section.isEmpty, name == dottedKey { return index + 1 }
        }
        return sectionLine
    }

    /// In the `occurrence`-th (from 1) `[[table]]`: the line of `key`, else of the header itself.
    private func line(of key: String?, inTable table: String, occurrence: Int) -> Int? {
        var seen = 0
        var headerLine: Int?
        var inside = false
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if let header = Self.header(line) {
                if header.isArray, header.name == table { seen += 1 }
                inside = header.isArray && header.name == table && seen == occurrence
                if inside { headerLine = index + 1 }
                continue
            }
            if inside, let key, Self.keyName(line) == key { return index + 1 }
        }
        return headerLine
    }

    private static func header(_ line: String) -> (name: String, isArray: Bool)? {
        guard line.hasPrefix("[") else { return nil }
        let isArray = line.hasPrefix("[[")
        return (line.dropFirst(isArray ? 2 : 1).prefix { $0 != "]" }.trimmingCharacters(in: .whitespaces), isArray)
    }

    private static func keyName(_ line: String) -> String? {
        guard let equals = line.firstIndex(of: "=") else { return nil }
        return line[..<equals].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
    }
}

/// `HOST:PORT` for the optional TCP listener (`[::1]:8750` for IPv6).
package struct TCPAddress: Sendable, Equatable {
    package var host: String
    package var port: Int

    package init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    /// 127.0.0.0/8, ::1 or localhost: reachable from this machine only.
    package var isLoopback: Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

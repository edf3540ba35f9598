// Blanking the one-time secrets of gateway.toml once they are used, in the technician's own
// text: only the value changes, so comments, order, Vietnamese and CRLF line endings stay.
import Foundation
import TOMLKit

package enum BootFileSecrets {
    /// `text` with the string value of each dotted key (`enrolment.token`) replaced by `""`;
    /// nil when a value is not a one-line string this can edit safely, or the result would not
    /// read back as the same file with those values blank.
    package static func blank(_ keys: [String], in text: String) -> String? {
        var lines = splitKeepingEnds(text)
        let locator = KeyLocator(text: text)
        for key in keys {
            guard let number = locator.line(of: key), lines.indices.contains(number - 1),
                  let blanked = blankValue(in: lines[number - 1].body) else { return nil }
            lines[number - 1].body = blanked
        }
        let result = lines.map { $0.body + $0.end }.joined()
        guard let before = try? TOMLTable(string: text), let after = try? TOMLTable(string: result) else { return nil }
        for key in keys {
            let parts = key.split(separator: ".").map(String.init)
            guard parts.count == 2, after[parts[0]]?.table?[parts[1]]?.string == "" else { return nil }
            before[parts[0]]?.table?[parts[1]] = ""
        }
        return before == after ? result : nil
    }

    /// `key = "value"  # comment` → `key = ""  # comment`; a literal string ('…') likewise.
    static func blankValue(in line: String) -> String? {
        guard let equals = line.firstIndex(of: "=") else { return nil }
        guard let open = line[line.index(after: equals)...].firstIndex(where: { $0 != " " && $0 != "\t" }),
              line[open] == "\"" || line[open] == "'" else { return nil }
        let quote = line[open]
        if line[open...].hasPrefix(String(repeating: quote, count: 3)) { return nil }  // multi-line strings: left alone
        var index = line.index(after: open)
        while index < line.endIndex, line[index] != quote {
            if quote == "\"", line[index] == "\\" { index = line.index(after: index) }
            guard index < line.endIndex else { return nil }
            index = line.index(after: index)
        }
        guard index < line.endIndex else { return nil }
        return String(line[..<open]) + "\"\"" + String(line[line.index(after: index)...])
    }

    /// Lines as KeyLocator numbers them (any line ending; CRLF is one), each with its ending.
    static func splitKeepingEnds(_ text: String) -> [(body: String, end: String)] {
        var lines: [(body: String, end: String)] = []
        var start = text.startIndex
        for index in text.indices where text[index].isNewline {
            lines.append((String(text[start..<index]), String(text[index])))
            start = text.index(after: index)
        }
        lines.append((String(text[start...]), ""))
        return lines
    }
}

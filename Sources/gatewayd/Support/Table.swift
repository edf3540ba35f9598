// Plain aligned columns for the listings.
import Foundation

/// Plain aligned columns for terminals (widths by characters, so Vietnamese lines up).
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in min(48, all.map { $0[column].count }.max() ?? 0) }
        return all.map { row in
            row.enumerated().map { column, cell in
                let text = cell.count > widths[column] ? String(cell.prefix(widths[column] - 1)) + "…" : cell
                return column == row.count - 1 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

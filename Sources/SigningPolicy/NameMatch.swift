import Foundation

/// Whether a certificate's O or CN names the configured commune: the same name once case,
/// spacing, Unicode composition, the "UBND" abbreviation and the two places Vietnamese writes a
/// tone mark (`Hoà`/`Hòa`, `Uỷ`/`Ủy`) are set aside. Equality, not containment: many communes
/// share a name across provinces, so "xã Hòa Tiến" must not match "xã Hòa Tiến Bắc".
enum NameMatch {
    static func same(_ a: String, _ b: String) -> Bool { canonical(a) == canonical(b) }

    static func canonical(_ text: String) -> String {
        var words = text.precomposedStringWithCanonicalMapping.lowercased()
            .split(whereSeparator: { $0.isWhitespace || $0 == "," })
            .map(String.init)
        words = words.flatMap { $0 == "ubnd" ? ["ủy", "ban", "nhân", "dân"] : [$0] }
        return words.map(moveTone).joined(separator: " ")
    }

    /// `oà → òa`, `uỷ → ủy`: the old placement on the second vowel moved to the first, so both
    /// spellings meet (the result is a canonical form, not always a correct spelling).
    static func moveTone(_ word: String) -> String {
        var result = word
        for (first, vowel, marked) in toneMoves {
            for (index, mark) in marked.enumerated() {
                result = result.replacingOccurrences(of: "\(first)\(mark)", with: "\(Array(firstMarked[first]!)[index])\(vowel)")
            }
        }
        return result
    }

    private static let firstMarked: [Character: String] = ["o": "òóỏõọ", "u": "ùúủũụ"]
    private static let toneMoves: [(Character, Character, String)] = [
        ("o", "a", "àáảãạ"), ("o", "e", "èéẻẽẹ"), ("u", "y", "ỳýỷỹỵ"),
    ]
}

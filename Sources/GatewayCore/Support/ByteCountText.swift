import Foundation

/// Sizes as people read and write them in the configuration and in messages: "100 MB", "512KiB".
package enum ByteCountText {
    /// "1.5 MB", "300 KB", "12 B" — decimal units, as disk makers and file managers show them.
    package static func format(_ bytes: Int64) -> String {
        let units: [(String, Double)] = [("GB", 1e9), ("MB", 1e6), ("KB", 1e3)]
        // A unit is used from its own size up, and also when the unit below would show "1000"
        // after rounding: 999,950 B reads "1 MB", not "1000 KB".
        for (name, size) in units where Double(bytes) >= size || (Double(bytes) / size * 10_000).rounded() >= 10_000 {
            let rounded = (Double(bytes) / size * 10).rounded() / 10
            return rounded == rounded.rounded() ? "\(Int64(rounded)) \(name)" : "\(rounded) \(name)"
        }
        return "\(bytes) B"
    }

    /// Parses "100 MB", "100MB", "64 KiB", "1.5GB", "1048576". Decimal (KB, MB, GB) and binary
    /// (KiB, MiB, GiB) units, case-insensitive; `nil` for anything else or a negative size.
    package static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let numberPart = trimmed.prefix { $0.isNumber || $0 == "." }
        let unit = trimmed.dropFirst(numberPart.count).trimmingCharacters(in: .whitespaces).lowercased()
        guard !numberPart.isEmpty, let value = Double(numberPart) else { return nil }
        let multipliers: [String: Double] = [
            "": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "k": 1e3, "m": 1e6, "g": 1e9,
            "kib": 1024, "mib": 1_048_576, "gib": 1_073_741_824,
        ]
        guard let multiplier = multipliers[unit] else { return nil }
        let bytes = value * multiplier
        // "4.1 MB" is 4099999.9999999995 in binary floating point: a whole number of bytes within
        // rounding error counts as whole; "1.5 B" does not.
        let whole = bytes.rounded()
        guard bytes >= 0, bytes < 9e18, abs(bytes - whole) <= max(1e-9, bytes * 1e-12) else { return nil }
        return Int64(whole)
    }
}


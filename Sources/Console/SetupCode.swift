// The one-time setup code that lets the first quản trị be created (nobody on the LAN can take
// over a fresh box without reading it on the box itself).
import DurableFiles
import Foundation
import GatewayCore

/// Kept in `<data>/console/setup-code` (mode 0600), shown by `gatewayd status`, removed when used.
/// Twelve digits in groups of four: easy to type on a phone, 40 bits against the lock-out's ten
/// guesses per address and quarter hour.
package struct SetupCode: Sendable {
    package let path: String

    package init(layout: StoreLayout) { path = BoxCA(layout: layout).directory + "/setup-code" }

    /// The code on file, or a new one written there; `new` tells the daemon to say where it is.
    package func ensure() throws -> (code: String, new: Bool) {
        if let code = read() { return (code, false) }
        try POSIXFile.makeDirectory((path as NSString).deletingLastPathComponent, mode: 0o700)
        let code = Self.generate()
        try BoxCA.writeDurably(path, code + "\n", mode: 0o600)
        return (code, true)
    }

    package func read() -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let code = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return code.isEmpty ? nil : code
    }

    package func consume() { POSIXFile.unlinkIfPresent(path) }

    /// Whether `typed` is the code, ignoring spaces and dashes (people type it as they see it).
    package func matches(_ typed: String) -> Bool {
        guard let code = read() else { return false }
        return Secrets.equal(Self.digits(typed), Self.digits(code))
    }

    static func digits(_ text: String) -> String { String(text.unicodeScalars.filter { ("0"..."9").contains($0) }.map(Character.init)) }

    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = (0..<12).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
        return stride(from: 0, to: 12, by: 4).map { start in
            String(digits.dropFirst(start).prefix(4))
        }.joined(separator: "-")
    }
}

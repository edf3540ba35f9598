/// A PIV PIN as the card wants it (SP 800-73-4 Part 2 §3.2.1): 6 to 8 digits, padded with 0xFF to
/// 8 bytes. The bytes live in one buffer that is zeroed when the value goes away, and no
/// description, log or error ever shows them.
/// `@unchecked Sendable`: the buffer is written only in `init` and `deinit`; reads are copies.
package final class PIN: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    package enum FormatError: Error, Equatable, Sendable, CustomStringConvertible {
        case wrongLength(Int)
        case notDigits

        package var description: String {
            switch self {
            case .wrongLength(let count):
                "Mã PIN phải có từ 6 đến 8 chữ số (đã nhập \(count) ký tự). / A PIN has 6 to 8 digits (\(count) characters given)."
            case .notDigits:
                "Mã PIN chỉ gồm chữ số 0–9. / A PIN has digits 0–9 only."
            }
        }
    }

    private let buffer: UnsafeMutableBufferPointer<UInt8>

    /// Checks the format before anything is sent: a malformed PIN must never cost a try.
    package convenience init(_ text: String) throws(FormatError) {
        var characters = Array(text.utf8)
        defer { for index in characters.indices { characters[index] = 0 } }
        let padded = try characters.withUnsafeBufferPointer { (bytes) throws(FormatError) in try Self.padded(bytes) }
        self.init(padded: padded)
    }

    /// From bytes the caller keeps (a signing session's one PIN buffer): they are copied straight
    /// into this PIN's own buffer, never through a Swift String, which could not be wiped.
    package convenience init(bytes: UnsafeBufferPointer<UInt8>) throws(FormatError) {
        self.init(padded: try Self.padded(bytes))
    }

    private init(padded: UnsafeMutableBufferPointer<UInt8>) {
        buffer = padded
    }

    /// The 8-byte buffer a PIN keeps, once the digits are checked (nothing allocated otherwise).
    private static func padded(_ characters: UnsafeBufferPointer<UInt8>) throws(FormatError) -> UnsafeMutableBufferPointer<UInt8> {
        guard characters.allSatisfy({ (0x30...0x39).contains($0) }) else { throw .notDigits }  // also "１２３" (full-width)
        guard (6...8).contains(characters.count) else { throw .wrongLength(characters.count) }
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 8)
        buffer.initialize(repeating: 0xFF)
        for (index, byte) in characters.enumerated() { buffer[index] = byte }
        return buffer
    }

    deinit {
        // Best effort as far as Swift allows: the one copy we own is overwritten before release.
        for index in buffer.indices { buffer[index] = 0 }
        buffer.deallocate()
    }

    /// The 8 padded bytes, lent for building one VERIFY command.
    func withPaddedBytes<T>(_ body: ([UInt8]) throws -> T) rethrows -> T {
        var copy = Array(buffer)
        defer { for index in copy.indices { copy[index] = 0 } }
        return try body(copy)
    }

    package var description: String { "PIN(redacted)" }
    package var debugDescription: String { "PIN(redacted)" }
}

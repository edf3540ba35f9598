/// A PIN as the person entered it: its bytes (UTF-8, as typed), not yet judged. Which PINs a
/// token takes is the backend's to say — PIV's 6 to 8 digits (`PIN`), a PKCS#11 token its own
/// lengths (CK_TOKEN_INFO's ulMinPinLen…ulMaxPinLen) and often letters — so the PIN change
/// (`TokenPINChanger`) takes this and each backend checks it before anything is sent. The bytes
/// live in one buffer zeroed when the value goes away; they are lent as copies zeroed after use,
/// and no description, log or error shows them.
/// `@unchecked Sendable`: the buffer is written only in `init` and `deinit`; reads are copies.
package final class EnteredPIN: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let buffer: UnsafeMutableBufferPointer<UInt8>

    /// Copies `bytes` (which the caller keeps and wipes) into this PIN's own buffer.
    package init(bytes: UnsafeBufferPointer<UInt8>) {
        buffer = .allocate(capacity: max(bytes.count, 1))
        buffer.initialize(repeating: 0)
        for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        count = bytes.count
    }

    /// A PIN given as text (tests): its UTF-8 bytes.
    package static func text(_ text: String) -> EnteredPIN {
        var bytes = Array(text.utf8)
        defer { for index in bytes.indices { bytes[index] = 0 } }
        return bytes.withUnsafeBufferPointer { EnteredPIN(bytes: $0) }
    }

    /// Its length in bytes, what PKCS#11's ulMinPinLen/ulMaxPinLen count.
    package let count: Int

    deinit {
        for index in buffer.indices { buffer[index] = 0 }
        buffer.deallocate()
    }

    /// The bytes, lent as a copy for one call (a module's C_Login takes a mutable pointer: it
    /// gets the copy, never this buffer); the copy is zeroed after.
    package func withCopy<T, E: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(E) -> T) throws(E) -> T {
        var copy = Array(buffer.prefix(count))
        defer { for index in copy.indices { copy[index] = 0 } }
        let result: Result<T, E> = copy.withUnsafeBufferPointer { bytes in Result { () throws(E) in try body(bytes) } }
        return try result.get()
    }

    /// PIV's form of it: 6 to 8 digits, checked before any card sees it.
    package func piv() throws(PIN.FormatError) -> PIN {
        try withCopy { (bytes) throws(PIN.FormatError) in try PIN(bytes: bytes) }
    }

    /// Whether the two are the same PIN (a new PIN that is the current one is refused before
    /// anything is sent).
    package func matches(_ other: EnteredPIN) -> Bool {
        withCopy { mine in other.withCopy { mine.elementsEqual($0) } }
    }

    package var description: String { "PIN(redacted)" }
    package var debugDescription: String { "PIN(redacted)" }
}

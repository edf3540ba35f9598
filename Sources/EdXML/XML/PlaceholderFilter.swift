import Foundation

/// Stands in for an attachment's base64 text so that libxml2 can serialize and canonicalize a
/// package whose tree holds only the metadata: the tree carries a short token in place of each
/// attachment's text, and the bytes libxml2 writes pass through a `PlaceholderFilter` that
/// replaces each token by the real text, streamed from disk.
///
/// Why this is exact: a token is ASCII letters and digits only, which XML serialization and
/// every C14N variant write verbatim, so the output is byte for byte what libxml2 would have
/// written with the real text in the tree (the streamed text is escaped as C14N escapes text).
/// Each token carries a random 128-bit nonce drawn per package, so no text a producer wrote can
/// be mistaken for one.
struct Placeholders: Sendable {
    let nonce: String

    init() {
        nonce = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    var prefix: [UInt8] { Array("EDXMLATTACHMENT\(nonce)N".utf8) }

    func token(_ index: Int) -> String {
        "EDXMLATTACHMENT\(nonce)N" + String(format: "%08d", index)
    }

    static let indexDigits = 8
}

/// Rewrites a byte stream, replacing each placeholder token by what `expand` writes for it.
/// Tokens may be split across calls to `write`.
struct PlaceholderFilter {
    private let prefix: [UInt8]
    private var held: [UInt8] = []
    private let sink: ([UInt8]) throws -> Void
    private let expand: (Int) throws -> Void

    /// `sink` receives ordinary output; `expand(index)` must write the replacement for token
    /// `index` itself (to the same destination) — it is called between two `sink` calls.
    init(placeholders: Placeholders, sink: @escaping ([UInt8]) throws -> Void, expand: @escaping (Int) throws -> Void) {
        self.prefix = placeholders.prefix
        self.sink = sink
        self.expand = expand
    }

    private var tokenLength: Int { prefix.count + Placeholders.indexDigits }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        held.append(contentsOf: bytes)
        try drain(final: false)
    }

    mutating func finish() throws {
        try drain(final: true)
        if !held.isEmpty { try sink(held); held.removeAll() }
    }

    private mutating func drain(final: Bool) throws {
        var start = 0
        let first = prefix[0]
        var index = 0
        while index < held.count {
            if held[index] != first { index += 1; continue }
            let available = held.count - index
            if available < tokenLength {
                // Could be the start of a token cut by the buffer's end: keep it for the next write.
                let compared = min(available, prefix.count)
                if !final && held[index..<index + compared].elementsEqual(prefix.prefix(compared)) { break }
                index += 1
                continue
            }
            guard held[index..<index + prefix.count].elementsEqual(prefix) else { index += 1; continue }
            let digits = held[(index + prefix.count)..<(index + tokenLength)]
            guard digits.allSatisfy({ (0x30...0x39).contains($0) }),
                  let number = Int(String(decoding: digits, as: UTF8.self)) else { index += 1; continue }
            if start < index { try sink(Array(held[start..<index])) }
            try expand(number)
            index += tokenLength
            start = index
        }
        // Keep back only what might be the start of a token.
        let keepFrom = final ? held.count : max(start, index < held.count ? index : held.count)
        if start < keepFrom { try sink(Array(held[start..<keepFrom])) }
        held.removeFirst(keepFrom)
    }
}

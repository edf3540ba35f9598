// Keyword search in a PDF's bytes. Foundation's generic `DataProtocol.firstRange(of:)` walks the
// bytes through generic indices and allocates as it goes: on the console's signing page, which
// opens every listed document to place its signature boxes, it was a third of the page's CPU
// (perf record under wrk, docs/PERFORMANCE.md). These loops compare the first byte, then the rest.

enum ByteSearch {
    /// The first occurrence of `needle` in `haystack`.
    static func first(_ needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard let lead = needle.first, haystack.count >= needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { bytes in
            needle.withUnsafeBufferPointer { wanted in
                var index = 0
                let last = bytes.count - wanted.count
                while index <= last {
                    if bytes[index] == lead, matches(wanted, in: bytes, at: index) { return index..<index + wanted.count }
                    index += 1
                }
                return nil
            }
        }
    }

    /// The last occurrence of `needle` in `haystack`.
    static func last(_ needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard let lead = needle.first, haystack.count >= needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { bytes in
            needle.withUnsafeBufferPointer { wanted in
                var index = bytes.count - wanted.count
                while index >= 0 {
                    if bytes[index] == lead, matches(wanted, in: bytes, at: index) { return index..<index + wanted.count }
                    index -= 1
                }
                return nil
            }
        }
    }

    private static func matches(_ wanted: UnsafeBufferPointer<UInt8>, in bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        for offset in 1..<wanted.count where bytes[index + offset] != wanted[offset] { return false }
        return true
    }
}

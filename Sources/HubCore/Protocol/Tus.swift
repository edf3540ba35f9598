import DocumentModel
import Foundation

/// The parts of tus 1.0.0 (core + creation, https://tus.io/protocols/resumable-upload) that are
/// text rules rather than I/O: header values in, typed values or a refusal out. The version,
/// extensions and content type are the wire's (`RelayWire`), shared with the box.
package enum Tus {
    package static let version = RelayWire.tusVersion
    package static let extensions = RelayWire.tusExtensions
    package static let patchContentType = RelayWire.tusPatchContentType

    /// `Upload-Expires` (tus expiration extension): an RFC 9110 HTTP-date, always in GMT.
    package static func httpDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return "\(days[(c.weekday ?? 1) - 1]), \(two(c.day)) \(months[(c.month ?? 1) - 1]) \(c.year ?? 1970) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) GMT"
    }

    /// Every request but OPTIONS must name the version the server speaks (tus core §"Tus-Resumable").
    package static func checkVersion(_ header: String?) throws(HubError) {
        guard header?.trimmed == version else {
            throw HubError(.tusVersion, "Cần tiêu đề \(RelayWire.Header.tusResumable): \(version)", "\(RelayWire.Header.tusResumable): \(version) is required")
        }
    }

    /// `Upload-Length` / `Upload-Offset`: a non-negative decimal integer, nothing else.
    package static func parseNonNegative(_ header: String?, name: String) throws(HubError) -> Int64 {
        guard let text = header?.trimmed, !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              let value = Int64(text) else {
            throw HubError(.badRequest, "Tiêu đề \(name) phải là số nguyên không âm", "\(name) must be a non-negative integer")
        }
        return value
    }

    /// `Upload-Metadata`: comma-separated pairs `key base64value` (the value may be absent);
    /// keys are ASCII without spaces or commas and unique.
    package static func parseMetadata(_ header: String?) throws(HubError) -> [String: String] {
        guard let header, !header.trimmed.isEmpty else { return [:] }
        var result: [String: String] = [:]
        for pair in header.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = String(pair).trimmed.split(separator: " ", omittingEmptySubsequences: true)
            guard (1...2).contains(parts.count), let key = parts.first, !key.isEmpty,
                  key.unicodeScalars.allSatisfy({ $0.isASCII && $0 != " " && $0 != "," }), result[String(key)] == nil else {
                throw HubError(.badRequest, "Tiêu đề Upload-Metadata không hợp lệ", "Upload-Metadata is malformed")
            }
            var value = ""
            if parts.count == 2 {
                guard let data = Data(base64Encoded: String(parts[1])), let text = String(data: data, encoding: .utf8) else {
                    throw HubError(.badRequest, "Giá trị \(key) trong Upload-Metadata không phải base64 UTF-8",
                                   "The value of \(key) in Upload-Metadata is not base64 UTF-8")
                }
                value = text
            }
            result[String(key)] = value
        }
        return result
    }
}

// Here, with the header rules that use it most, so that scripts/fuzz-parsers tus builds them alone.
extension String {
    var trimmed: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}

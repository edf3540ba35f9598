import Foundation
import TimeJSON

/// The names of the clerks' inbox folders (one folder per incoming document): pure text rules,
/// apart from the edXML header they are read from (`InboxFolder` in GatewayCore) and the file
/// work (`InboxFolderWriter`).
package enum InboxFolderName {
    /// `2026-11-22 9-UBND-VP UBND tỉnh Quảng Trị`: promulgation date (`yyyy/MM/dd`, or the day it
    /// arrived, in Vietnam), number and notation, sender. The date first so that folders sort by
    /// date.
    package static func name(promulgationDate: String?, number: String, notation: String, sender: String, receivedAt: Date) -> String {
        let date = promulgationDate.map { $0.replacingOccurrences(of: "/", with: "-") } ?? String(GatewayJSON.format(receivedAt).prefix(10))
        let code = number.isEmpty ? notation : "\(number)-\(notation)"
        return safeName([date, code, sender].filter { !$0.isEmpty }.joined(separator: " "))
    }

    /// A name any file system and SMB client takes (`ShareFileName.clean`), runs of spaces made
    /// one, at most 180 bytes of UTF-8 (room for the invalid mark and " (2)").
    package static func safeName(_ text: String) -> String {
        ShareFileName.clean(text, maximumBytes: 180, keepExtension: false, collapseSpaces: true, fallback: "van-ban")
    }

    /// The name of a document that could not be read: the day it arrived, sender and key.
    package static func unreadable(receivedAt: Date, sender: String, key: String) -> String {
        safeName("\(GatewayJSON.format(receivedAt).prefix(10)) \(sender) \(key)")
    }

    /// The hidden folder an incoming document is unpacked in before it is renamed into view.
    package static func staging(hubID: Int64) -> String { ".dang-nhan-\(hubID)" }
}

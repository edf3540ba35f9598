import Foundation

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

    /// A name any file system and SMB client takes: no `/` or control characters, no leading dot
    /// (hidden) or trailing dot or space (Windows drops them), NFC (the form Windows and macOS
    /// clients compare by), at most 180 bytes of UTF-8 (ext4 allows 255; room for " (2)").
    package static func safeName(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.precomposedStringWithCanonicalMapping.unicodeScalars {
            switch scalar {
            case "/", "\\", ":", "*", "?", "\"", "<", ">", "|": scalars.append("-")
            case _ where scalar.properties.generalCategory == .control: scalars.append(" ")
            default: scalars.append(scalar)
            }
        }
        var name = String(scalars).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        while name.utf8.count > 180 { name.removeLast() }
        while let last = name.last, last == "." || last == " " { name.removeLast() }
        while name.first == "." { name.removeFirst() }
        return name.isEmpty ? "van-ban" : name
    }

    /// The name of a document that could not be read: the day it arrived, sender and key.
    package static func unreadable(receivedAt: Date, sender: String, key: String) -> String {
        safeName("\(GatewayJSON.format(receivedAt).prefix(10)) \(sender) \(key)")
    }

    /// Marks a folder as holding hub item `hubID`, so a retry after a crash recognises its own.
    package static func marker(hubID: Int64) -> String { ".hub-\(hubID)" }

    /// The hidden folder an incoming document is unpacked in before it is renamed into view.
    package static func staging(hubID: Int64) -> String { ".dang-nhan-\(hubID)" }

    /// The first name not in use: `name`, `name (2)`, … `taken(candidate)` says whether a folder
    /// of that name exists and whether it is this document's own (its marker inside).
    package static func firstFree(_ name: String, taken: (String) -> (exists: Bool, ours: Bool)) -> (name: String, alreadyPlaced: Bool) {
        var candidate = name, suffix = 1
        while true {
            let state = taken(candidate)
            if !state.exists { return (candidate, false) }
            if state.ours { return (candidate, true) }
            suffix += 1
            candidate = "\(name) (\(suffix))"
        }
    }
}

import Foundation

/// Names of what the gateway places on the clerks' Windows share (the inbox folder's folders
/// and the attachments in them), made from text a sender chose: pure rules, the file work is
/// `InboxFolderWriter`. A name is read by Windows Explorer, so the rules are Windows' own, plus
/// what a sender can use to disguise a file (issue 16).
package enum ShareFileName {
    /// Longest name ext4 and NTFS take, in bytes of UTF-8.
    package static let maximumBytes = 255

    /// A name any SMB client shows as it is: NFC (the form Windows and macOS clients compare
    /// by); bidirectional overrides and marks removed (`hoadon\u{202E}fdp.exe` would read as
    /// `hoadonexe.pdf`); a control character removed (a tab or line break becomes a space);
    /// `< > : " / \ | ? *` replaced by `-`; no leading dot or space (hidden, or easy to miss), no
    /// trailing dot or space (Windows drops them); a device name (CON, NUL, COM1, LPT1 …, with
    /// any extension) prefixed with `_`; at most `maximumBytes` bytes, cut on a character and,
    /// with `keepExtension`, before the extension.
    package static func clean(_ text: String, maximumBytes: Int = maximumBytes, keepExtension: Bool = true,
                              collapseSpaces: Bool = false, fallback: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.precomposedStringWithCanonicalMapping.unicodeScalars {
            switch scalar {
            case _ where isDirectionControl(scalar): continue
            case "\t", "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}": scalars.append(" ")
            case _ where scalar.properties.generalCategory == .control: continue
            case "/", "\\", ":", "*", "?", "\"", "<", ">", "|": scalars.append("-")
            default: scalars.append(scalar)
            }
        }
        var name = String(scalars)
        if collapseSpaces { name = name.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        name = String(name.drop { $0 == "." || $0 == " " })
        if isDeviceName(name) { name = "_" + name }
        name = bounded(name, maximumBytes: maximumBytes, keepExtension: keepExtension)
        return name.isEmpty ? fallback : name
    }

    /// An attachment's name on the share.
    package static func attachment(_ name: String) -> String { clean(name, fallback: "tep-dinh-kem") }

    /// `stem (n).ext`, still within `maximumBytes`: the next name when one is taken.
    package static func numbered(_ name: String, _ number: Int, maximumBytes: Int = maximumBytes) -> String {
        let (stem, ext) = split(name)
        let suffix = " (\(number))" + ext
        return bounded(stem, maximumBytes: maximumBytes - suffix.utf8.count, keepExtension: false) + suffix
    }

    /// Why a file must not be placed where clerks browse, nil when it may. Asked of the name
    /// after `clean`, so a disguise (an override character, a trailing dot) is already gone.
    /// Vietnamese first, English beside.
    package static func dangerReason(_ name: String) -> (vi: String, en: String)? {
        let lowered = name.lowercased()
        let ext = split(lowered).ext.dropFirst()
        if lowered == "desktop.ini" || shellFiles.contains(String(ext)) {
            return ("Windows tự đọc loại tệp này khi mở thư mục và có thể gửi thông tin đăng nhập của máy ra mạng",
                    "Windows reads this kind of file when the folder is opened and can send the computer's login to the network")
        }
        if programs.contains(String(ext)) {
            return ("tệp chương trình hoặc tập lệnh, chạy ngay khi được mở", "a program or script, which runs as soon as it is opened")
        }
        return nil
    }

    /// Text from a sender shown inside a file (`thong-tin.txt`): bidirectional controls and
    /// control characters other than line breaks and tabs written out as `[U+202E]`, so a line
    /// cannot be made to read backwards.
    package static func visible(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if isDirectionControl(scalar) || (scalar.properties.generalCategory == .control && scalar != "\n" && scalar != "\t") {
                result += "[U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4) + "]"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Read by Explorer when a folder is shown, or opened by the shell with a network lookup.
    static let shellFiles: Set<String> = ["url", "lnk", "scf", "library-ms", "searchconnector-ms"]

    static let programs: Set<String> = [
        "exe", "com", "bat", "cmd", "pif", "scr", "msi", "msp", "ps1", "psm1", "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta", "cpl",
        "jar", "reg", "inf", "dll", "sys", "application", "appref-ms", "gadget", "msc",
    ]

    static func isDirectionControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: true
        default: false
        }
    }

    /// Windows takes the part before the first dot, trailing spaces ignored, in any case.
    static func isDeviceName(_ name: String) -> Bool {
        var base = name.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? name
        while base.last == " " { base.removeLast() }
        let upper = base.uppercased()
        if ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"].contains(upper) { return true }
        guard upper.count == 4, upper.hasPrefix("COM") || upper.hasPrefix("LPT"), let digit = upper.last else { return false }
        return "0123456789¹²³".contains(digit)
    }

    /// The name cut to `maximumBytes` (before the extension when kept), trailing dots and spaces
    /// removed.
    static func bounded(_ name: String, maximumBytes: Int, keepExtension: Bool) -> String {
        var (stem, ext) = keepExtension ? split(name) : (name, "")
        if ext.utf8.count > maximumBytes / 2 { (stem, ext) = (name, "") }
        while stem.utf8.count + ext.utf8.count > maximumBytes, !stem.isEmpty { stem.removeLast() }
        var result = stem + ext
        while result.utf8.count > maximumBytes { result.removeLast() }
        while let last = result.last, last == "." || last == " " { result.removeLast() }
        return result
    }

    /// `("thu moi", ".pdf")`; a leading dot is no extension.
    static func split(_ name: String) -> (stem: String, ext: String) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, "") }
        return (String(name[..<dot]), String(name[dot...]))
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

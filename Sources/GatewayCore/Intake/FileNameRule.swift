import Foundation

/// What a document's file name may be. The name travels into the store, into edXML
/// (`AttachmentName`) and back onto a clerk's Windows PC, so it must be a plain name there too.
package enum FileNameRule {
    /// Bytes a file name may take (ext4 and most file systems stop at 255).
    package static let maximumBytes = 255

    /// Names Windows reserves for devices, whatever the extension: a clerk could not save them.
    static let windowsDeviceNames: Set<String> = Set(["CON", "PRN", "AUX", "NUL"] + (1...9).flatMap { ["COM\($0)", "LPT\($0)"] })

    /// Validates a name given as raw bytes (from a directory listing or an API header).
    package static func validate(_ bytes: [UInt8]) throws(IntakeError) -> String {
        guard let name = String(validating: bytes, as: UTF8.self) else {
            throw .invalidFileName("tên tệp không phải UTF-8", "the name is not UTF-8")
        }
        return try validate(name)
    }

    package static func validate(_ given: String) throws(IntakeError) -> String {
        // Checked in the form that is stored: NFC (the same Vietnamese name typed on different
        // systems compares equal), whose length can differ from what was sent.
        let name = given.precomposedStringWithCanonicalMapping
        if name.isEmpty { throw .invalidFileName("tên tệp rỗng", "the name is empty") }
        if name.utf8.count > maximumBytes {
            throw .invalidFileName("tên tệp dài quá \(maximumBytes) byte", "the name is longer than \(maximumBytes) bytes")
        }
        if name == "." || name == ".." {
            throw .invalidFileName("\"\(name)\" không phải là tên tệp", "\"\(name)\" is not a file name")
        }
        if name.contains("/") || name.contains("\\") {
            throw .invalidFileName("tên tệp chứa dấu phân cách thư mục (/ hoặc \\)", "the name contains a path separator (/ or \\)")
        }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            throw .invalidFileName("tên tệp chứa ký tự điều khiển", "the name contains control characters")
        }
        // Windows cannot hold these; a clerk's PC would fail to save the document later.
        if name.contains(where: { "<>:\"|?*".contains($0) }) {
            throw .invalidFileName("tên tệp chứa ký tự không dùng được trên Windows (< > : \" | ? *)", "the name contains characters Windows cannot use (< > : \" | ? *)")
        }
        if name.hasSuffix(" ") || name.hasSuffix(".") {
            throw .invalidFileName("tên tệp kết thúc bằng dấu cách hoặc dấu chấm", "the name ends with a space or a dot")
        }
        let stem = name.split(separator: ".", maxSplits: 1).first.map { $0.uppercased() } ?? ""
        if windowsDeviceNames.contains(stem.trimmingCharacters(in: .whitespaces)) {
            throw .invalidFileName("\"\(stem)\" là tên thiết bị dành riêng của Windows", "\"\(stem)\" is a reserved device name on Windows")
        }
        return name
    }
}


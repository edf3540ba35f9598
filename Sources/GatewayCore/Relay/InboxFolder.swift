import DocumentModel
import DurableFiles
import EdXML
import Foundation

/// What a clerk sees of an incoming document: one folder per document in the inbox folder (a
/// share, like the hot folder documents are dropped in), named so that a listing reads like the
/// register of incoming documents, holding the attachments and `thong-tin.txt`.
///
/// Pure: names and text from the package header. `InboxFolderWriter` does the file work.
public enum InboxFolder {
    /// `2026-11-22 9-UBND-VP UBND tỉnh Quảng Trị`: promulgation date (or the day it arrived, in
    /// Vietnam), number and notation, sender. The date first so that folders sort by date.
    public static func name(for header: MessageHeader, receivedAt: Date) -> String {
        let date = header.promulgationInfo.date.map { $0.replacingOccurrences(of: "/", with: "-") }
            ?? String(GatewayJSON.format(receivedAt).prefix(10))
        let code = header.code.number.isEmpty ? header.code.notation : "\(header.code.number)-\(header.code.notation)"
        let sender = header.from.organName ?? header.from.organId
        return safeName([date, code, sender].filter { !$0.isEmpty }.joined(separator: " "))
    }

    /// A name any file system and SMB client takes: no `/` or control characters, no leading dot
    /// (hidden) or trailing dot or space (Windows drops them), NFC (the form Windows and macOS
    /// clients compare by), at most 180 bytes of UTF-8 (ext4 allows 255; room for " (2)").
    public static func safeName(_ text: String) -> String {
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

    /// `thong-tin.txt`: the register's fields, Vietnamese first with English beside.
    public static func information(_ header: MessageHeader, key: String, hubID: Int64, receivedAt: Date,
                                   attachments: [String], readError: String? = nil) -> String {
        var lines: [String] = []
        func add(_ vi: String, _ en: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            lines.append("\(vi) / \(en): \(value)")
        }
        add("Nơi gửi", "From", header.from.organName.map { "\($0) (\(header.from.organId))" } ?? header.from.organId)
        add("Số, ký hiệu", "Number", header.code.description)
        add("Ngày ban hành", "Date", header.promulgationInfo.date)
        add("Loại văn bản", "Type", header.documentType.typeDetail ?? header.documentType.type)
        add("Trích yếu", "Subject", header.subject)
        add("Độ khẩn", "Priority", header.otherInfo.typedPriority?.vietnameseName)
        add("Người ký", "Signed by", [header.signerInfo?.position, header.signerInfo?.fullName].compactMap { $0 }.joined(separator: " "))
        add("Hạn xử lý", "Due", header.dueDate)
        add("Mã văn bản", "Document id", key)
        add("Nhận lúc", "Received at", GatewayJSON.format(receivedAt))
        add("Tệp đính kèm", "Attachments", attachments.isEmpty ? nil : attachments.joined(separator: "; "))
        add("Số nhận trên hub", "Hub inbox id", String(hubID))
        if let readError {
            lines.append("Không đọc được gói: \(readError). Gói gốc là tệp .edxml trong thư mục này."
                + " / The package could not be read: \(readError). The original package is the .edxml file in this folder.")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Marks a folder as holding hub item `hubID`, so a retry after a crash recognises its own.
    static func marker(hubID: Int64) -> String { ".hub-\(hubID)" }
}

/// Places an incoming document in the inbox folder: unpacked into a hidden staging folder on the
/// same file system, fsynced, then renamed into view in one step — a clerk never sees half a
/// document. Run after the package is stored and acknowledged; until its folder name is
/// committed it is placed again after a crash, and the marker file makes that a no-op.
struct InboxFolderWriter: Sendable {
    let folder: String

    func place(_ record: InboundRecord, packagePath: String) async throws -> String {
        try POSIXFile.makeDirectory(folder)
        let staging = folder + "/.dang-nhan-\(record.hubID)"
        try? FileManager.default.removeItem(atPath: staging)
        try POSIXFile.makeDirectory(staging)
        let marker = InboxFolder.marker(hubID: record.hubID)
        var name: String
        var text: String
        do {
            let read = try await PackageReader.read(path: packagePath, unpackTo: staging)
            guard case .document(let package) = read.package else { throw InboxFolderError.notADocument }
            name = InboxFolder.name(for: package.header, receivedAt: record.storedAt)
            text = InboxFolder.information(package.header, key: record.packageKey, hubID: record.hubID, receivedAt: record.storedAt,
                                           attachments: read.attachments.compactMap { $0.path.map { ($0 as NSString).lastPathComponent } })
        } catch {
            // Still the clerk's document: shown as the original package with the reason it could
            // not be opened, never dropped.
            try? FileManager.default.removeItem(atPath: staging)
            try POSIXFile.makeDirectory(staging)
            try FileManager.default.copyItem(atPath: packagePath, toPath: staging + "/goi-goc.edxml")
            name = InboxFolder.safeName("\(GatewayJSON.format(record.storedAt).prefix(10)) \(record.sender) \(record.packageKey)")
            text = "Nơi gửi / From: \(record.sender)\nMã văn bản / Document id: \(record.packageKey)\n"
                + "Không đọc được gói: \(error). Gói gốc là goi-goc.edxml. / The package could not be read: \(error). The original is goi-goc.edxml.\n"
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: staging + "/thong-tin.txt"))
        FileManager.default.createFile(atPath: staging + "/" + marker, contents: Data())
        for entry in try FileManager.default.contentsOfDirectory(atPath: staging) {
            let fd = open(staging + "/" + entry, O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                defer { close(fd) }
                try POSIXFile.fsyncFile(fd, path: staging + "/" + entry)
            }
        }
        try POSIXFile.fsyncDirectory(staging)
        // The first free name; one already holding our marker is this document placed before a
        // crash (renamed, but its name not yet committed).
        var candidate = name, suffix = 1
        while FileManager.default.fileExists(atPath: folder + "/" + candidate) {
            if FileManager.default.fileExists(atPath: folder + "/" + candidate + "/" + marker) {
                try? FileManager.default.removeItem(atPath: staging)
                return candidate
            }
            suffix += 1
            candidate = "\(name) (\(suffix))"
        }
        try POSIXFile.rename(staging, folder + "/" + candidate)
        try POSIXFile.fsyncDirectory(folder)
        return candidate
    }
}

enum InboxFolderError: Error, CustomStringConvertible {
    case notADocument
    var description: String { "gói không phải văn bản / the package is not a document" }
}

import DocumentModel
import DurableFiles
import EdXML
import Foundation

/// What a clerk sees of an incoming document: one folder per document in the inbox folder (a
/// share, like the hot folder documents are dropped in), named so that a listing reads like the
/// register of incoming documents, holding the attachments and `thong-tin.txt`.
///
/// Pure: names and text from the package header. `InboxFolderWriter` does the file work.
package enum InboxFolder {
    /// The folder's name from the header (`InboxFolderName.name`).
    package static func name(for header: MessageHeader, receivedAt: Date) -> String {
        InboxFolderName.name(promulgationDate: header.promulgationInfo.date, number: header.code.number, notation: header.code.notation,
                             sender: header.from.organName ?? header.from.organId, receivedAt: receivedAt)
    }

    package static func safeName(_ text: String) -> String { InboxFolderName.safeName(text) }

    /// Added to the folder's name of a document whose signatures are invalid.
    package static let invalidMark = " (CHỮ KÝ KHÔNG HỢP LỆ - INVALID SIGNATURE)"

    /// The verdict's lines for `thong-tin.txt` (empty before it was checked).
    package static func verdictText(_ verdict: IncomingVerdict?) -> String {
        guard let verdict else { return "" }
        return (verdict.lines + [
            "Kiểm tra lúc / Checked at: \(GatewayJSON.format(verdict.checkedAt))",
        ] + verdict.history).joined(separator: "\n") + "\n"
    }

    /// `thong-tin.txt`: the register's fields, Vietnamese first with English beside.
    package static func information(_ header: MessageHeader, key: String, hubID: Int64, receivedAt: Date,
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

}

/// Places an incoming document in the inbox folder: unpacked into a hidden staging folder on the
/// same file system, fsynced, then renamed into view in one step — a clerk never sees half a
/// document. Run after the package is stored and acknowledged; until its folder name is
/// committed it is placed again after a crash, and the marker file makes that a no-op.
struct InboxFolderWriter: Sendable {
    let folder: String

    func place(_ record: InboundRecord, packagePath: String) async throws -> String {
        try POSIXFile.makeDirectory(folder)
        let staging = folder + "/" + InboxFolderName.staging(hubID: record.hubID)
        try? FileManager.default.removeItem(atPath: staging)
        try POSIXFile.makeDirectory(staging)
        let marker = InboxFolderName.marker(hubID: record.hubID)
        var name: String
        var text: String
        do {
            let read = try await PackageReader.read(path: packagePath, unpackTo: staging)
            guard case .document(let package) = read.package else { throw InboxFolderError.notADocument }
            name = InboxFolder.name(for: package.header, receivedAt: record.storedAt)
            // An invalid signature is marked in the name itself: the clerks must see the document,
            // and see at a glance that it cannot be trusted.
            if record.verdict?.outcome == .invalid { name += InboxFolder.invalidMark }
            text = InboxFolder.information(package.header, key: record.packageKey, hubID: record.hubID, receivedAt: record.storedAt,
                                           attachments: read.attachments.compactMap { $0.path.map { ($0 as NSString).lastPathComponent } })
                + InboxFolder.verdictText(record.verdict)
        } catch {
            // Still the clerk's document: shown as the original package with the reason it could
            // not be opened, never dropped.
            try? FileManager.default.removeItem(atPath: staging)
            try POSIXFile.makeDirectory(staging)
            try FileManager.default.copyItem(atPath: packagePath, toPath: staging + "/goi-goc.edxml")
            name = InboxFolderName.unreadable(receivedAt: record.storedAt, sender: record.sender, key: record.packageKey)
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
        let (candidate, alreadyPlaced) = InboxFolderName.firstFree(name) { candidate in
            (FileManager.default.fileExists(atPath: folder + "/" + candidate),
             FileManager.default.fileExists(atPath: folder + "/" + candidate + "/" + marker))
        }
        if alreadyPlaced {
            try? FileManager.default.removeItem(atPath: staging)
            return candidate
        }
        try POSIXFile.rename(staging, folder + "/" + candidate)
        try POSIXFile.fsyncDirectory(folder)
        return candidate
    }
}

extension InboxFolderWriter {
    /// Renames a placed document's folder with the invalid mark (the first free name); returns the
    /// new name, or the old one when it already carries the mark.
    func markInvalid(folderName: String) throws -> String {
        guard !folderName.hasSuffix(InboxFolder.invalidMark) else { return folderName }
        let (candidate, _) = InboxFolderName.firstFree(folderName + InboxFolder.invalidMark) { candidate in
            (FileManager.default.fileExists(atPath: folder + "/" + candidate), false)
        }
        try POSIXFile.rename(folder + "/" + folderName, folder + "/" + candidate)
        try POSIXFile.fsyncDirectory(folder)
        return candidate
    }

    /// Rewrites the verdict part of a placed document's `thong-tin.txt` (a re-check changed it):
    /// written beside, fsynced, renamed over, so a clerk never reads half a file.
    func updateVerdict(folderName: String, _ verdict: IncomingVerdict) throws {
        let path = folder + "/" + folderName + "/thong-tin.txt"
        guard let current = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }) else { return }
        let kept = current.components(separatedBy: "\n").prefix { !$0.hasPrefix("Chữ ký số / Signatures:") }.joined(separator: "\n")
        let text = kept.hasSuffix("\n") || kept.isEmpty ? kept : kept + "\n"
        let temporary = path + ".part"
        try Data((text + InboxFolder.verdictText(verdict)).utf8).write(to: URL(fileURLWithPath: temporary))
        let fd = open(temporary, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            defer { close(fd) }
            try POSIXFile.fsyncFile(fd, path: temporary)
        }
        try POSIXFile.rename(temporary, path)
    }
}

enum InboxFolderError: Error, CustomStringConvertible {
    case notADocument
    var description: String { "gói không phải văn bản / the package is not a document" }
}

import DocumentModel
import DurableFiles
import EdXML
import Foundation
import TimeJSON

/// What a clerk sees of an incoming document: one folder per document in the inbox folder (a
/// share, like the hot folder documents are dropped in), named so that a listing reads like the
/// register of incoming documents, holding the attachments and `thong-tin.txt`.
///
/// Pure: names and text from the package header. `InboxFolderWriter` does the file work.
package enum InboxFolder {
    /// Who sent a document, as clerks are shown it: the agency code the hub vouches for (it
    /// checked it against the sending box's certificate), named by the hub's directory; the name
    /// the package gives itself (`From/OrganName`) is only the sender's claim — any enrolled box
    /// could write "UBND tỉnh" there — shown beside, marked as such, never as the name.
    package struct Sender: Sendable, Equatable {
        package var code: String
        /// The hub's directory's name for `code` (nil: not in the directory).
        package var directoryName: String?
        /// `From/OrganName` as the package states it.
        package var claimedName: String?

        package init(code: String, directoryName: String?, claimedName: String?) {
            self.code = code
            self.directoryName = directoryName
            self.claimedName = claimedName
        }

        /// The directory's name, else the code.
        package var shownName: String { directoryName ?? code }
    }

    /// The folder's name from the header and its sender (`InboxFolderName.name`).
    package static func name(for header: MessageHeader, sender: Sender, receivedAt: Date) -> String {
        InboxFolderName.name(promulgationDate: header.promulgationInfo.date, number: header.code.number, notation: header.code.notation,
                             sender: sender.shownName, receivedAt: receivedAt)
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
    package static func information(_ header: MessageHeader, sender: Sender, key: String, hubID: Int64, receivedAt: Date,
                                   attachments: [String], readError: String? = nil) -> String {
        var lines: [String] = []
        func add(_ vi: String, _ en: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            lines.append("\(vi) / \(en): \(value)")
        }
        add("Nơi gửi", "From", sender.directoryName.map { "\($0) (\(sender.code))" } ?? "\(sender.code) (không có trong danh bạ của hub / not in the hub's directory)")
        add("Tên nơi gửi tự ghi trong gói, chưa được kiểm chứng", "Name the package gives, the sender's claim, not checked",
            sender.claimedName.flatMap { $0 == sender.directoryName ? nil : $0 })
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

/// Places an incoming document in the inbox folder: unpacked in the store (`store/tmp/`), its
/// attachments named for a Windows share and the dangerous ones set aside in the store
/// (`ShareFileName`), then copied into a hidden staging folder in the share, fsynced, and
/// renamed into view in one step — a clerk never sees half a document.
///
/// The inbox folder is a share clerks write to, so every write there goes through directory
/// descriptors with O_EXCL|O_NOFOLLOW (`SharedDirectory.swift`), and nothing the daemon relies
/// on lives there: the name about to be placed and the staging folder's identity (device and
/// inode) are recorded in the store (`store/inbox/<hub-id>.placing`) before the rename, so a
/// retry after a crash between the rename and the commit of `relay_inbound.folder` recognises
/// the folder it placed — by its inode, which a clerk cannot forge — and places no second one.
struct InboxFolderWriter: Sendable {
    let folder: String
    let layout: StoreLayout
    /// The hub's directory (code → name) as the store keeps it: the sender's name clerks see.
    var directory: [String: String] = [:]

    /// A document's attachments not placed for the clerks, kept for the technician.
    func setAsideDirectory(hubID: Int64) -> String { layout.inboxDirectory + "/\(hubID).set-aside" }

    static func intentName(hubID: Int64) -> [UInt8] { Array("\(hubID).placing".utf8) }

    func place(_ record: InboundRecord, packagePath: String) async throws -> String {
        try POSIXFile.makeDirectory(folder)  // the configured path itself is the administrator's
        let share = try POSIXFile.openDirectory(folder)
        defer { close(share) }
        if let placed = alreadyPlaced(hubID: record.hubID, share: share) { return placed }
        let scratch = layout.temporaryDirectory + "/placing-\(record.hubID)"
        try? FileManager.default.removeItem(atPath: scratch)
        try POSIXFile.makeDirectory(scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var name: String
        var text: String
        var files: [(source: String, name: String)]
        var read: ReadResult?
        var failure = ""
        do {
            read = try await PackageReader.read(path: packagePath, unpackTo: scratch)
            guard case .document = read?.package else { throw InboxFolderError.notADocument }
        } catch {
            read = nil
            failure = "\(error)"
        }
        if let read, case .document(let package) = read.package {
            // The code the hub checked (its listing's `from`), not the package's own word.
            let sender = InboxFolder.Sender(code: record.sender, directoryName: directory[record.sender], claimedName: package.header.from.organName)
            name = InboxFolder.name(for: package.header, sender: sender, receivedAt: record.storedAt)
            // An invalid signature is marked in the name itself: the clerks must see the document,
            // and see at a glance that it cannot be trusted.
            if record.verdict?.outcome == .invalid { name += InboxFolder.invalidMark }
            let sorted = try sortAttachments(read.attachments, hubID: record.hubID)
            files = sorted.placed
            text = InboxFolder.information(package.header, sender: sender, key: record.packageKey, hubID: record.hubID, receivedAt: record.storedAt,
                                           attachments: sorted.listed)
                + sorted.note + InboxFolder.verdictText(record.verdict)
        } else {
            // Still the clerk's document: shown as the original package with the reason it could
            // not be opened, never dropped.
            files = [(packagePath, "goi-goc.edxml")]
            name = InboxFolderName.unreadable(receivedAt: record.storedAt, sender: record.sender, key: record.packageKey)
            text = "Nơi gửi / From: \(record.sender)\nMã văn bản / Document id: \(record.packageKey)\n"
                + "Không đọc được gói: \(failure). Gói gốc là goi-goc.edxml. / The package could not be read: \(failure). The original is goi-goc.edxml.\n"
        }
        files.append((scratch + "/thong-tin.txt", "thong-tin.txt"))
        // Text from the sender: no override character may make a line read backwards.
        try Data(ShareFileName.visible(text).utf8).write(to: URL(fileURLWithPath: scratch + "/thong-tin.txt"))
        return try stageAndRename(files, as: name, hubID: record.hubID, share: share)
    }

    /// Each attachment under its share-safe name (`ShareFileName`, numbered when two clash,
    /// compared as Windows does, without case), or set aside in the store when it is of a type
    /// Windows acts on by itself: the files to place, the attachments line of `thong-tin.txt`,
    /// and the note saying what was set aside, why, and where the technician finds it.
    func sortAttachments(_ attachments: [ReceivedAttachment], hubID: Int64)
        throws -> (placed: [(source: String, name: String)], listed: [String], note: String) {
        let aside = setAsideDirectory(hubID: hubID)
        try? FileManager.default.removeItem(atPath: aside)  // a retry sorts them again
        var taken: Set<String> = ["thong-tin.txt"]
        var placed: [(source: String, name: String)] = [], listed: [String] = [], note = ""
        for attachment in attachments {
            guard let source = attachment.path else { continue }
            let original = attachment.info.name
            var name = ShareFileName.attachment(original)
            let base = name
            var number = 1
            while taken.contains(name.lowercased()) {
                number += 1
                name = ShareFileName.numbered(base, number)
            }
            taken.insert(name.lowercased())
            let renamed = name == original ? "" : " (tên gốc / original name: \"\(ShareFileName.visible(original))\")"
            guard let reason = ShareFileName.dangerReason(name) else {
                placed.append((source, name))
                listed.append(name + renamed)
                continue
            }
            try POSIXFile.makeDirectory(aside)
            try POSIXFile.rename(source, aside + "/" + name)
            note += "Tệp bị giữ lại, không đặt vào thư mục này / File set aside, not placed in this folder: \"\(name)\"\(renamed)\n"
                + "  Lý do: \(reason.vi). / Reason: \(reason.en).\n"
                + "  Cán bộ kỹ thuật lấy tệp tại / The technician finds it at: \(aside)/\(name)\n"
        }
        if !note.isEmpty { try POSIXFile.fsyncDirectory(aside) }
        return (placed, listed, note)
    }

    /// The files copied into a fresh staging folder in the share (created exclusively, entered
    /// without following links), fsynced, then renamed into view under the first free name —
    /// never over anything there (RENAME_NOREPLACE) — after that name and the staging folder's
    /// identity were recorded in the store.
    func stageAndRename(_ files: [(source: String, name: String)], as name: String, hubID: Int64, share: Int32) throws -> String {
        let staging = Array(InboxFolderName.staging(hubID: hubID).utf8)
        POSIXFile.removeTree(at: share, staging)
        try POSIXFile.makeDirectory(at: share, staging, mode: 0o770)
        let directory = try POSIXFile.openDirectory(at: share, staging)
        defer { close(directory) }
        for file in files {
            let source = open(file.source, O_RDONLY | O_CLOEXEC)
            try POSIXFile.check(source, "open", file.source)
            defer { close(source) }
            let target = try POSIXFile.createExclusive(at: directory, Array(file.name.utf8), mode: 0o660)
            defer { close(target) }
            try POSIXFile.copyAll(from: source, to: target, path: file.name)
            try POSIXFile.fsyncFile(target, path: file.name)
        }
        try POSIXFile.check(fsync(directory), "fsync", folder)
        var identity = stat()
        try POSIXFile.check(fstat(directory, &identity), "fstat", folder)
        let store = try POSIXFile.openDirectory(layout.inboxDirectory)
        defer { close(store) }
        var suffix = 1
        while true {
            let candidate = suffix == 1 ? name : "\(name) (\(suffix))"
            suffix += 1
            guard POSIXFile.entry(at: share, Array(candidate.utf8)) == nil else { continue }
            try POSIXFile.replaceFile(at: store, Self.intentName(hubID: hubID), temporary: Self.intentName(hubID: hubID) + Array(".part".utf8),
                                      contents: Array("\(identity.st_dev) \(identity.st_ino)\n\(candidate)".utf8))
            guard try Self.renameIfFree(share, staging, Array(candidate.utf8)) else { continue }  // taken in between
            try POSIXFile.check(fsync(share), "fsync", folder)
            // A share user who swapped the staging folder for their own had theirs renamed: not
            // ours to commit (the next attempt places the document again).
            guard let placed = POSIXFile.entry(at: share, Array(candidate.utf8)),
                  placed.st_dev == identity.st_dev, placed.st_ino == identity.st_ino else {
                throw InboxFolderError.stagingReplaced(candidate)
            }
            return candidate
        }
    }

    /// The folder recorded before a rename that a crash kept from being committed: still there
    /// under that name, and the very directory (same device and inode) — not something a clerk
    /// put in its place.
    func alreadyPlaced(hubID: Int64, share: Int32) -> String? {
        guard let store = try? POSIXFile.openDirectory(layout.inboxDirectory) else { return nil }
        defer { close(store) }
        guard let bytes = POSIXFile.readSmallFile(at: store, Self.intentName(hubID: hubID), limit: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let newline = text.firstIndex(of: "\n") else { return nil }
        let identity = text[..<newline].split(separator: " ")
        let name = String(text[text.index(after: newline)...])
        guard identity.count == 2, let placed = POSIXFile.entry(at: share, Array(name.utf8)), (placed.st_mode & S_IFMT) == S_IFDIR,
              String(placed.st_dev) == identity[0], String(placed.st_ino) == identity[1] else { return nil }
        return name
    }

    /// False when something took `to` first.
    static func renameIfFree(_ share: Int32, _ from: [UInt8], _ to: [UInt8]) throws -> Bool {
        do {
            try POSIXFile.renameNoReplace(at: share, from, to: share, to)
            return true
        } catch {
            if error.errno == EEXIST { return false }
            throw error
        }
    }

    /// Once the folder's name is committed to `relay_inbound.folder`, the record of the rename
    /// has served.
    func placed(hubID: Int64) {
        guard let store = try? POSIXFile.openDirectory(layout.inboxDirectory) else { return }
        POSIXFile.removeName(at: store, Self.intentName(hubID: hubID))
        close(store)
    }
}

extension InboxFolderWriter {
    /// Renames a placed document's folder with the invalid mark (the first free name, never over
    /// anything there); returns the new name, or the old one when it already carries the mark.
    func markInvalid(folderName: String) throws -> String {
        guard !folderName.hasSuffix(InboxFolder.invalidMark) else { return folderName }
        let share = try POSIXFile.openDirectory(folder)
        defer { close(share) }
        var suffix = 1
        while true {
            let candidate = folderName + InboxFolder.invalidMark + (suffix == 1 ? "" : " (\(suffix))")
            suffix += 1
            guard POSIXFile.entry(at: share, Array(candidate.utf8)) == nil else { continue }
            guard try Self.renameIfFree(share, Array(folderName.utf8), Array(candidate.utf8)) else { continue }
            try POSIXFile.check(fsync(share), "fsync", folder)
            return candidate
        }
    }

    /// Rewrites the verdict part of a placed document's `thong-tin.txt` (a re-check changed it):
    /// written beside, fsynced, renamed over, so a clerk never reads half a file — inside the
    /// document's folder entered without following a link, neither name followed either.
    func updateVerdict(folderName: String, _ verdict: IncomingVerdict) throws {
        let share = try POSIXFile.openDirectory(folder)
        defer { close(share) }
        let document = try POSIXFile.openDirectory(at: share, Array(folderName.utf8))
        defer { close(document) }
        let information = Array("thong-tin.txt".utf8)
        guard let current = POSIXFile.readSmallFile(at: document, information).map({ String(decoding: $0, as: UTF8.self) }) else { return }
        let kept = current.components(separatedBy: "\n").prefix { !$0.hasPrefix("Chữ ký số / Signatures:") }.joined(separator: "\n")
        let text = kept.hasSuffix("\n") || kept.isEmpty ? kept : kept + "\n"
        try POSIXFile.replaceFile(at: document, information, temporary: information + Array(".part".utf8),
                                  contents: Array(ShareFileName.visible(text + InboxFolder.verdictText(verdict)).utf8), mode: 0o660)
    }
}

enum InboxFolderError: Error, CustomStringConvertible {
    case notADocument
    case stagingReplaced(String)

    var description: String {
        switch self {
        case .notADocument: "gói không phải văn bản / the package is not a document"
        case .stagingReplaced(let name):
            "thư mục tạm đã bị thay bằng thư mục khác trước khi đổi tên thành \"\(name)\" / the staging folder was replaced by another before it was renamed to \"\(name)\""
        }
    }
}

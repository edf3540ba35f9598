import DurableFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The hot folder's attachments (phụ lục, docs/hot-folder.md): a sidecar's `"attachments"` name
/// files that travel with its document. A file so named by any sidecar in the folder is never
/// taken by itself; the document waits until all of them are there and settled, then the
/// document, its sidecar and its attachments are taken together in one store commit.
extension HotFolderIntake {
    /// The folder as one pass sees it: which names are there and which of them sidecars claim.
    struct FolderView: Sendable {
        /// Every name in the folder by its NFC text (a Mac writes decomposed Vietnamese names,
        /// the metadata's names are NFC), with its bytes on disk.
        var names: [String: [UInt8]] = [:]
        /// Attachment names (NFC) → the sidecars that name them.
        var claims: [String: [[UInt8]]] = [:]

        static func text(_ name: [UInt8]) -> String { String(decoding: name, as: UTF8.self).precomposedStringWithCanonicalMapping }

        /// Named as an attachment by a sidecar other than its own (a document naming itself is
        /// refused with the reason, not held for ever).
        func isClaimed(_ name: [UInt8]) -> Bool {
            let own = HotFolderIntake.sidecarNames(for: name)
            return claims[Self.text(name)]?.contains { !own.contains($0) } ?? false
        }

        /// The files present that `sidecar` names as attachments.
        func files(claimedBy sidecar: [UInt8]) -> [[UInt8]] {
            claims.filter { $0.value.contains(sidecar) }.keys.sorted().compactMap { names[$0] }
        }
    }

    /// Lists the folder and reads the `"attachments"` of every sidecar in it. A sidecar that
    /// cannot be read claims nothing here: its document is refused with the reason when taken.
    func folderView() -> FolderView {
        var view = FolderView()
        let listing: [[UInt8]]
        do { listing = try POSIXFile.listDirectory(settings.folder) } catch {
            logger.error("cannot list the hot folder", metadata: ["error": "\(error)"])
            return view
        }
        for name in listing {
            view.names[FolderView.text(name)] = name
            guard String(decoding: name, as: UTF8.self).lowercased().hasSuffix(".json"), name.first != UInt8(ascii: "."),
                  let json = try? readSidecar(name), case .object(let object)? = JSONValue.parse(json),
                  case .array(let listed)? = object["attachments"] else { continue }
            for case .string(let attachment) in listed {
                view.claims[attachment.precomposedStringWithCanonicalMapping, default: []].append(name)
            }
        }
        return view
    }

    /// An attachment open for copying.
    struct OpenAttachment {
        var fileName: String
        var raw: [UInt8]
        var fd: Int32
        var info: stat
    }

    enum AttachmentOpening {
        case opened(OpenAttachment)
        /// The attachment's fault, which refuses its document (told with the attachment's name).
        case refused(IntakeError)
        /// Still being written: the document is tried again when it is closed.
        case busy
    }

    /// Opens an attachment with the checks a document gets: a regular file, readable, not open
    /// for writing, not empty, not over the size limit.
    func openAttachment(_ fileName: String, raw: [UInt8]) -> AttachmentOpening {
        let path = cPath(settings.folder, raw)
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return .refused(IntakeError.notARegularFile.inAttachment(fileName)) }
        // Not blocked by a FIFO swapped in after the lstat: its type is checked on what was opened.
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return .refused(IntakeError.unreadableFile(String(cString: strerror(errno))).inAttachment(fileName)) }
        guard fstat(fd, &info) == 0, !Self.isOpenForWriting(fd) else {
            close(fd)
            return .busy
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return .refused(IntakeError.notARegularFile.inAttachment(fileName))
        }
        let refusal: IntakeError? = if info.st_size == 0 {
            IntakeError.emptyDocument
        } else if Int64(info.st_size) > store.limits.maximumDocumentSize {
            IntakeError.documentTooLarge(limit: store.limits.maximumDocumentSize)
        } else { nil }
        if let refusal {
            close(fd)
            return .refused(refusal.inAttachment(fileName))
        }
        return .opened(OpenAttachment(fileName: fileName, raw: raw, fd: fd, info: info))
    }

    /// A document whose attachments are not all in the folder stays where it is, with a line in
    /// the log. Once it has waited `attachmentWait` since it arrived (its inode's change time:
    /// a copy keeps the source's modification time, not its arrival), `NAME.error.txt` beside it
    /// says which attachments are missing; it still waits, and is taken (the note removed) when
    /// they arrive. Refusing it instead would lose nothing a clerk can fix more easily: the missing
    /// file may still be on its way over a slow share.
    func waitForAttachments(_ name: [UInt8], fileName: String, missing: [String], arrived: timespec) -> Outcome {
        logger.notice("hot folder document waiting for its attachments", metadata: [
            "file": "\(fileName)", "missing": "\(missing.joined(separator: ", "))",
        ])
        let arrivedAt = Date(timeIntervalSince1970: Double(arrived.tv_sec) + Double(arrived.tv_nsec) / 1e9)
        let waited = Date().timeIntervalSince(arrivedAt)
        let limit = Double(settings.attachmentWait.components.seconds) + Double(settings.attachmentWait.components.attoseconds) / 1e18
        if waited < limit {
            scheduleAttachmentDeadline(name, after: .seconds(limit - waited))
            return .waitingForAttachments(missing)
        }
        let text = IntakeError.missingAttachments(missing).waitingFileText(fileName: fileName)
        guard let folder = try? POSIXFile.openDirectory(settings.folder) else { return .waitingForAttachments(missing) }
        defer { close(folder) }
        if POSIXFile.readSmallFile(at: folder, name + Array(".error.txt".utf8)) != Array(text.utf8) {
            logger.warning("hot folder document still misses attachments; error file written beside it", metadata: [
                "file": "\(fileName)", "missing": "\(missing.joined(separator: ", "))",
            ])
            state.withLock { $0.lastRefusal = IntakeError.Code.missingAttachment.rawValue }
            writeErrorFile(in: folder, for: name, text: text)
        }
        return .waitingForAttachments(missing)
    }
}

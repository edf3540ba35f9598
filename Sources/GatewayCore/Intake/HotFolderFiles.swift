// The hot folder's file work: reading a sidecar, copying a file into the store, and what happens
// to the originals afterwards (removed once stored, or moved to `rejected/` with NAME.error.txt).
// Kept apart from HotFolderIntake.swift, which decides what to take and when.
import DurableFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension HotFolderIntake {
    /// A sidecar's bytes, checked to be a JSON object of reasonable size.
    func readSidecar(_ sidecar: [UInt8]) throws(IntakeError) -> [UInt8] {
        let sidecarName = String(decoding: sidecar, as: UTF8.self)
        // O_NONBLOCK and the type checked on what was opened: a FIFO named like a sidecar must not
        // block the intake (issue 16).
        let fd = open(cPath(settings.folder, sidecar), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw .unreadableSidecar(sidecarName, "không mở được tệp (\(reason))", "cannot open it (\(reason))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadableSidecar(sidecarName, "không phải tệp thường", "it is not a regular file")
        }
        let limit = 256 * 1024  // metadata is a few hundred bytes; anything this big is not a sidecar
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else {
            throw .unreadableSidecar(sidecarName, "lỗi khi đọc tệp", "read error")
        }
        guard count <= limit else {
            throw .unreadableSidecar(sidecarName, "tệp quá lớn (hơn 256 KB)", "the file is too large (over 256 KB)")
        }
        let json = Array(bytes[0..<count])
        guard String(validating: json, as: UTF8.self) != nil else {
            throw .unreadableSidecar(sidecarName, "tệp không phải văn bản UTF-8", "it is not UTF-8 text")
        }
        guard case .object = JSONValue.parse(json) else {
            throw .unreadableSidecar(sidecarName, "nội dung không phải là một đối tượng JSON hợp lệ", "its content is not a valid JSON object")
        }
        return json
    }

    static func copy(_ fd: Int32, into staged: StagedDocument) throws {
        var buffer = [UInt8](repeating: 0, count: 128 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                staged.discard()
                throw IntakeError.storeUnavailable("read error \(errno)")
            }
            if count == 0 { return }
            var failure: IntakeError?
            buffer.withUnsafeBytes { raw in
                do throws(IntakeError) { try staged.append(UnsafeRawBufferPointer(rebasing: raw[0..<count])) } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }

    /// True when some process has the file open for writing. Linux refuses a read lease
    /// (`F_SETLEASE`, F_RDLCK) with EAGAIN exactly then; the lease is dropped at once. Where
    /// leases are not permitted (not the file's owner, no CAP_LEASE) this answers false and the
    /// copy's before/after comparison is the remaining guard.
    static func isOpenForWriting(_ fd: Int32) -> Bool {
        let setLease: Int32 = 1024  // F_SETLEASE = F_LINUX_SPECIFIC_BASE + 0 (<fcntl.h>, _GNU_SOURCE)
        if fcntl(fd, setLease, Int32(F_RDLCK)) == 0 {
            _ = fcntl(fd, setLease, Int32(F_UNLCK))
            return false
        }
        return errno == EAGAIN
    }

    func deferred(_ displayName: String, _ code: IntakeError.Code, _ error: IntakeError? = nil) -> Outcome {
        state.withLock { $0.lastRefusal = code.rawValue }
        logger.warning("hot folder file left in place for now", metadata: [
            "file": "\(displayName)", "code": "\(code.rawValue)", "reason": "\(error?.messageEn ?? "")",
        ])
        return .deferred(code)
    }

    /// Attachments first, then the sidecar, then the document: if the box dies in between, the
    /// document left behind is recognised as already stored on the next scan (its key is looked
    /// up before its attachments are); an attachment left behind without its sidecar would be
    /// taken as a document of its own, and a sidecar left behind could lend its metadata to a
    /// later document of the same name.
    func removeOriginals(_ name: [UInt8], _ sidecar: [UInt8]?, attachments: [[UInt8]]) {
        for attachment in attachments { unlink(cPath(settings.folder, attachment)) }
        if let sidecar { unlink(cPath(settings.folder, sidecar)) }
        unlink(cPath(settings.folder, name))
        unlink(cPath(settings.folder, name + Array(".error.txt".utf8)))  // the note of a wait for attachments
    }

    /// Moves a refused file (its sidecar and the attachments it names) to `rejected/` and writes
    /// `NAME.error.txt` beside it. All of it relative to the folder's descriptors: `rejected/`
    /// replaced by a link to elsewhere is refused (the file then stays where it is, logged), and
    /// no name in it is ever followed (`SharedDirectory.swift`).
    func reject(_ name: [UInt8], _ sidecar: [UInt8]?, _ error: IntakeError, attachments: [[UInt8]] = []) -> Outcome {
        let displayName = String(decoding: name, as: UTF8.self)
        state.withLock { $0.lastRefusal = error.code.rawValue }
        logger.warning("hot folder file refused", metadata: ["file": "\(displayName)", "code": "\(error.code.rawValue)", "reason": "\(error.messageEn)"])
        let folder: Int32, rejected: Int32
        do {
            folder = try POSIXFile.openDirectory(settings.folder)
            do { rejected = try openRejected(folder) } catch {
                close(folder)
                throw error
            }
        } catch let failure {
            logger.error("cannot open rejected/; the refused file stays where it is", metadata: ["file": "\(displayName)", "error": "\(failure)"])
            return .rejected(error.code)
        }
        defer { close(rejected); close(folder) }
        guard let target = moveToRejected(name, from: folder, to: rejected) else { return .rejected(error.code) }
        // Before the sidecar: without it they would be taken as documents of their own.
        for attachment in attachments { _ = moveToRejected(attachment, from: folder, to: rejected) }
        if let sidecar { _ = moveToRejected(sidecar, preferred: target + Array(".json".utf8), from: folder, to: rejected) }
        POSIXFile.removeName(at: folder, name + Array(".error.txt".utf8))
        writeErrorFile(in: rejected, for: target, text: error.errorFileText(fileName: displayName))
        return .rejected(error.code)
    }

    /// `rejected/`, made when missing; a link or a file a share user put in its place is refused.
    func openRejected(_ folder: Int32) throws(SystemCallError) -> Int32 {
        let name = Array("rejected".utf8)
        do { return try POSIXFile.openDirectory(at: folder, name) } catch {
            guard error.errno == ENOENT else { throw error }
        }
        try? POSIXFile.makeDirectory(at: folder, name, mode: 0o770)
        return try POSIXFile.openDirectory(at: folder, name)
    }

    /// Never replaces an earlier refused file of the same name (nor anything planted there): the
    /// new one becomes `NAME (2)`.
    func moveToRejected(_ name: [UInt8], preferred: [UInt8]? = nil, from folder: Int32, to rejected: Int32) -> [UInt8]? {
        let base = preferred ?? name
        for attempt in 1...1000 {
            let target = attempt == 1 ? base : Self.numbered(base, attempt)
            do {
                try POSIXFile.link(at: folder, name, to: rejected, target)
                POSIXFile.removeName(at: folder, name)
                return target
            } catch where error.errno == EEXIST {
                continue
            } catch {
                // Links fail on some mounts: a rename that never replaces is the fallback.
                do {
                    try POSIXFile.renameNoReplace(at: folder, name, to: rejected, target)
                    return target
                } catch where error.errno == EEXIST {
                    continue
                } catch {
                    logger.error("cannot move refused file aside", metadata: ["file": "\(String(decoding: name, as: UTF8.self))", "error": "\(error)"])
                    return nil
                }
            }
        }
        return nil
    }

    static func numbered(_ name: [UInt8], _ number: Int) -> [UInt8] {
        let suffix = Array(" (\(number))".utf8)
        if let dot = name.lastIndex(of: UInt8(ascii: ".")), dot > 0 {
            return Array(name[..<dot]) + suffix + Array(name[dot...])
        }
        return name + suffix
    }

    /// `TARGET.error.txt` in `directory` (`rejected/`, or the hot folder itself for a document
    /// waiting for its attachments), through `.TARGET.error.tmp`: a link planted at either name
    /// is replaced or refused, never written through.
    func writeErrorFile(in directory: Int32, for target: [UInt8], text: String) {
        do {
            try POSIXFile.replaceFile(at: directory, target + Array(".error.txt".utf8), temporary: Array(".".utf8) + target + Array(".error.tmp".utf8),
                                      contents: Array(text.utf8), mode: 0o660)
        } catch {
            logger.error("cannot write the error file", metadata: ["file": "\(String(decoding: target, as: UTF8.self))", "error": "\(error)"])
        }
    }
}

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
        let fd = open(cPath(settings.folder, sidecar), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw .unreadableSidecar(sidecarName, "không mở được tệp (\(reason))", "cannot open it (\(reason))")
        }
        defer { close(fd) }
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
    /// `NAME.error.txt` beside it.
    func reject(_ name: [UInt8], _ sidecar: [UInt8]?, _ error: IntakeError, attachments: [[UInt8]] = []) -> Outcome {
        let displayName = String(decoding: name, as: UTF8.self)
        state.withLock { $0.lastRefusal = error.code.rawValue }
        logger.warning("hot folder file refused", metadata: ["file": "\(displayName)", "code": "\(error.code.rawValue)", "reason": "\(error.messageEn)"])
        guard let target = moveToRejected(name) else { return .rejected(error.code) }
        // Before the sidecar: without it they would be taken as documents of their own.
        for attachment in attachments { _ = moveToRejected(attachment) }
        if let sidecar { _ = moveToRejected(sidecar, preferred: target + Array(".json".utf8)) }
        unlink(cPath(settings.folder, name + Array(".error.txt".utf8)))
        writeErrorFile(in: rejectedFolder, for: target, text: error.errorFileText(fileName: displayName))
        return .rejected(error.code)
    }

    /// Never replaces an earlier refused file of the same name: the new one becomes `NAME (2)`.
    func moveToRejected(_ name: [UInt8], preferred: [UInt8]? = nil) -> [UInt8]? {
        let source = cPath(settings.folder, name)
        let base = preferred ?? name
        for attempt in 1...1000 {
            let target = attempt == 1 ? base : Self.numbered(base, attempt)
            if link(source, cPath(rejectedFolder, target)) == 0 {
                unlink(source)
                return target
            }
            if errno != EEXIST {
                // Links fail on some mounts: fall back to a rename that checked for a clash first.
                if access(cPath(rejectedFolder, target), F_OK) != 0, Glibc.rename(source, cPath(rejectedFolder, target)) == 0 { return target }
                logger.error("cannot move refused file aside", metadata: ["file": "\(String(decoding: name, as: UTF8.self))", "errno": "\(errno)"])
                return nil
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

    func writeErrorFile(in directory: String, for target: [UInt8], text: String) {
        let finalPath = cPath(directory, target + Array(".error.txt".utf8))
        let temporaryPath = cPath(directory, Array(".".utf8) + target + Array(".error.tmp".utf8))
        let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o660)
        guard fd >= 0 else { return }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { raw in (try? POSIXFile.writeAll(fd, raw, path: "error file")) != nil }
        fsync(fd)
        close(fd)
        if written { Glibc.rename(temporaryPath, finalPath) } else { unlink(temporaryPath) }
    }
}

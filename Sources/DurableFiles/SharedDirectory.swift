// Writes into a directory other people can write too (the hot folder, its `rejected/`, the
// clerks' inbox folder: Samba shares). Everything there goes relative to a directory descriptor
// and never through a path string: a share user can replace any name in it — `rejected/` itself
// by a symlink to elsewhere, `.NAME.error.tmp` by a symlink to the SQLite file — between our
// check and our write. So names are created with O_CREAT|O_EXCL|O_NOFOLLOW (a planted link
// makes the call fail, it is never followed), directories are entered with O_NOFOLLOW, and
// renames never replace what is there (RENAME_NOREPLACE) unless replacing is the point, which
// replaces a planted link itself, never its target.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

extension POSIXFile {
    /// A directory whose path the administrator configured (trusted up to there), as the
    /// descriptor the `…(at:)` calls below work relative to.
    package static func openDirectory(_ path: String) throws(SystemCallError) -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(fd, "open", path)
        return fd
    }

    /// A directory inside a shared one: a symlink in its place is refused (ELOOP/ENOTDIR),
    /// never entered.
    package static func openDirectory(at parent: Int32, _ name: [UInt8]) throws(SystemCallError) -> Int32 {
        let fd = withCName(name) { openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        try check(fd, "openat", display(name))
        return fd
    }

    /// A new file in a shared directory, for writing: fails (EEXIST) on anything already there,
    /// a planted symlink included.
    package static func createExclusive(at directory: Int32, _ name: [UInt8], mode: mode_t = 0o640) throws(SystemCallError) -> Int32 {
        let fd = withCName(name) { openat(directory, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode) }
        try check(fd, "openat", display(name))
        return fd
    }

    /// A file in a shared directory, for reading: a symlink is refused, never read through, and
    /// a FIFO put in its place does not block the open (O_NONBLOCK; no effect on a plain file).
    package static func openForReading(at directory: Int32, _ name: [UInt8]) throws(SystemCallError) -> Int32 {
        let fd = withCName(name) { openat(directory, $0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
        try check(fd, "openat", display(name))
        return fd
    }

    /// A small plain file's bytes in a shared directory (a note we wrote, `thong-tin.txt`); nil
    /// when it is missing, not a plain file (a link, a FIFO, a directory) or over `limit`.
    package static func readSmallFile(at directory: Int32, _ name: [UInt8], limit: Int = 1 << 20) -> [UInt8]? {
        guard let fd = try? openForReading(at: directory, name) else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) <= limit else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if got < 0, errno == EINTR { continue }
            if got <= 0 { break }
            count += got
        }
        return count <= limit ? Array(bytes[..<count]) : nil
    }

    /// mkdirat never follows a symlink at the name: EEXIST.
    package static func makeDirectory(at directory: Int32, _ name: [UInt8], mode: mode_t) throws(SystemCallError) {
        try check(withCName(name) { mkdirat(directory, $0, mode) }, "mkdirat", display(name))
    }

    /// What is at `name` itself (a symlink is reported as one), nil when nothing is.
    package static func entry(at directory: Int32, _ name: [UInt8]) -> stat? {
        var info = stat()
        return withCName(name) { fstatat(directory, $0, &info, AT_SYMLINK_NOFOLLOW) } == 0 ? info : nil
    }

    /// A second name for a file (a symlink at `from` is linked as the link itself): never
    /// replaces what is at `to`.
    package static func link(at fromDirectory: Int32, _ from: [UInt8], to toDirectory: Int32, _ to: [UInt8]) throws(SystemCallError) {
        let result = withCName(from) { source in withCName(to) { target in linkat(fromDirectory, source, toDirectory, target, 0) } }
        try check(result, "linkat", display(to))
    }

    /// Renames without ever replacing what is at `to` (EEXIST), directories included, where
    /// `link` cannot go. renameat2 is not in Swift's Glibc module, hence the lookup; where the
    /// file system does not know RENAME_NOREPLACE (EINVAL) a check just before the rename is
    /// the best left.
    package static func renameNoReplace(at fromDirectory: Int32, _ from: [UInt8], to toDirectory: Int32, _ to: [UInt8]) throws(SystemCallError) {
        let result = withCName(from) { source in
            withCName(to) { target -> Int32 in
                if let renameat2 = renameat2Function {
                    let result = renameat2(fromDirectory, source, toDirectory, target, 1)  // RENAME_NOREPLACE
                    if result == 0 || (errno != EINVAL && errno != ENOSYS) { return result }
                }
                var info = stat()
                if fstatat(toDirectory, target, &info, AT_SYMLINK_NOFOLLOW) == 0 {
                    errno = EEXIST
                    return -1
                }
                return renameat(fromDirectory, source, toDirectory, target)
            }
        }
        try check(result, "renameat", display(to))
    }

    /// Renames over `to`: meant for a file we replace (a note, `thong-tin.txt`); a symlink
    /// planted there is replaced itself, its target untouched.
    package static func rename(at fromDirectory: Int32, _ from: [UInt8], to toDirectory: Int32, _ to: [UInt8]) throws(SystemCallError) {
        let result = withCName(from) { source in withCName(to) { target in renameat(fromDirectory, source, toDirectory, target) } }
        try check(result, "renameat", display(to))
    }

    /// Removes a name (a symlink itself, never its target).
    package static func removeName(at directory: Int32, _ name: [UInt8]) {
        _ = withCName(name) { unlinkat(directory, $0, 0) }
    }

    /// Writes a whole file in a shared directory, a reader never seeing half of it: `temporary`
    /// (whatever was left or planted there removed first, then created exclusively), written,
    /// fsynced, renamed over `name`, the directory fsynced.
    package static func replaceFile(at directory: Int32, _ name: [UInt8], temporary: [UInt8], contents: [UInt8],
                                    mode: mode_t = 0o640) throws(SystemCallError) {
        removeName(at: directory, temporary)
        let fd = try createExclusive(at: directory, temporary, mode: mode)
        do throws(SystemCallError) {
            defer { close(fd) }
            try writeAll(fd, contents, path: display(temporary))
            try fsyncFile(fd, path: display(temporary))
        } catch {
            removeName(at: directory, temporary)
            throw error
        }
        try rename(at: directory, temporary, to: directory, name)
        try check(fsync(directory), "fsync", display(name))
    }

    /// Copies a whole file between descriptors (another file system: no link possible).
    package static func copyAll(from source: Int32, to target: Int32, path: String) throws(SystemCallError) {
        var buffer = [UInt8](repeating: 0, count: 128 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemCallError(call: "read", path: path, errno: errno)
            }
            if count == 0 { return }
            var failure: SystemCallError?
            buffer.withUnsafeBytes { raw in
                do throws(SystemCallError) { try writeAll(target, UnsafeRawBufferPointer(rebasing: raw[0..<count]), path: path) } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }

    /// Removes `name` and, when it is a directory, everything in it, following no symlink: a
    /// link inside is removed itself, its target untouched.
    package static func removeTree(at parent: Int32, _ name: [UInt8]) {
        if withCName(name, { unlinkat(parent, $0, 0) }) == 0 || (errno != EISDIR && errno != EPERM) { return }
        guard let fd = try? openDirectory(at: parent, name) else { return }
        guard let directory = fdopendir(fd) else {
            close(fd)
            return
        }
        var names: [[UInt8]] = []
        while let entry = readdir(directory) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            if entryName != [0x2E] && entryName != [0x2E, 0x2E] { names.append(entryName) }
        }
        for entryName in names { removeTree(at: fd, entryName) }
        closedir(directory)  // closes fd
        _ = withCName(name) { unlinkat(parent, $0, AT_REMOVEDIR) }
    }

    private static func withCName<Result>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> Result) -> Result {
        (name.map { CChar(bitPattern: $0) } + [0]).withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    private static func display(_ name: [UInt8]) -> String { String(decoding: name, as: UTF8.self) }

    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    /// glibc's renameat2 (2.28 and later), found at run time.
    private static let renameat2Function: RenameAt2? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }  // RTLD_DEFAULT
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()
}

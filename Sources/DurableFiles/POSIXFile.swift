// The durable-file primitives of the gateway, the hub, EdXML and the signing code.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A failed system call, with errno kept so callers can tell "disk full" from the rest.
/// LocalizedError so that `localizedDescription` (command-line messages) says the same.
package struct SystemCallError: LocalizedError, Sendable, CustomStringConvertible {
    package let call: String
    package let path: String
    package let errno: Int32

    package init(call: String, path: String, errno: Int32) { (self.call, self.path, self.errno) = (call, path, errno) }

    package var isNoSpace: Bool { errno == ENOSPC || errno == EDQUOT }
    package var reason: String { String(cString: strerror(errno)) }
    package var description: String { "\(call)(\(path)): \(reason) (errno \(errno))" }
    package var errorDescription: String? { description }
}

/// Every write that must survive power loss goes temp file → write fully → fsync → rename →
/// fsync(directory); these are the only places that do it.
package enum POSIXFile {
    package static func check(_ result: Int32, _ call: String, _ path: String) throws(SystemCallError) {
        if result < 0 { throw SystemCallError(call: call, path: path, errno: errno) }
    }

    /// Opens for writing a file that must not exist yet (O_EXCL: two writers can never share one).
    package static func createExclusive(_ path: String, mode: mode_t = 0o640) throws(SystemCallError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        try check(fd, "open", path)
        return fd
    }

    /// write(2) until every byte is written: a write may stop short (a signal, a pipe, a quota).
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(SystemCallError) {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw SystemCallError(call: "write", path: path, errno: errno)
            }
            offset += written
        }
    }

    package static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(SystemCallError) {
        var failure: SystemCallError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemCallError) { try writeAll(fd, raw, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    package static func fsyncFile(_ fd: Int32, path: String) throws(SystemCallError) {
        try check(fsync(fd), "fsync", path)
    }

    /// Makes a rename, link or unlink in `directory` durable.
    package static func fsyncDirectory(_ directory: String) throws(SystemCallError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(fd, "open", directory)
        defer { close(fd) }
        try check(fsync(fd), "fsync", directory)
    }

    package static func rename(_ from: String, _ to: String) throws(SystemCallError) {
        try check(Glibc.rename(from, to), "rename", from)
    }

    /// A second name for a complete file: atomic, never replaces an existing file, no second copy
    /// of the bytes. Same file system only.
    package static func link(_ from: String, _ to: String) throws(SystemCallError) {
        try check(Glibc.link(from, to), "link", to)
    }

    /// Moves a file without ever replacing an existing target: `link` fails with EEXIST where a
    /// plain `rename` would silently destroy the file already there. Same file system only.
    package static func moveNoReplace(_ from: UnsafePointer<CChar>, _ to: UnsafePointer<CChar>) throws(SystemCallError) {
        try check(Glibc.link(from, to), "link", String(cString: to))
        _ = unlink(from)
    }

    package static func unlinkIfPresent(_ path: String) {
        _ = unlink(path)
    }

    /// The file's size, nil when it cannot be found.
    package static func size(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// The first `count` bytes of a file (fewer when it is shorter, or a read fails part way),
    /// nil when it cannot be opened. For headers and one-line secrets; the caller zeroes a secret.
    package static func readPrefix(_ path: String, upTo count: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, count - filled) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            filled += got
        }
        bytes.removeSubrange(filled...)  // in place, and the tail was never written: no copy of a secret
        return bytes
    }

    /// Writes a message to standard error as it is (no buffering, errors ignored: there is
    /// nowhere left to report them), as the command-line tools end with one.
    package static func writeToStandardError(_ text: String) {
        try? writeAll(STDERR_FILENO, Array(text.utf8), path: "standard error")
    }

    /// Bytes available to an unprivileged writer on the file system holding `path`.
    package static func freeBytes(at path: String) throws(SystemCallError) -> Int64 {
        var stats = statvfs()
        try check(statvfs(path, &stats), "statvfs", path)
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    package static func makeDirectory(_ path: String, mode: mode_t = 0o750) throws {
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: Int(mode)])
    }

    /// Names in a directory (no `.`/`..`), as raw bytes: a name that is not UTF-8 must still be
    /// movable, so it is never decoded lossily.
    package static func listDirectory(_ path: String) throws(SystemCallError) -> [[UInt8]] {
        let reader = try DirectoryReader(path)
        var names: [[UInt8]] = []
        while case let batch = reader.next(upTo: 4096), !batch.isEmpty { names += batch }
        return names
    }
}

/// A directory read a few names at a time, so that one with a hundred thousand files is never
/// held in memory whole (the store's reconcile walks `objects/` this way).
package final class DirectoryReader {
    private let directory: OpaquePointer

    package init(_ path: String) throws(SystemCallError) {
        guard let directory = opendir(path) else { throw SystemCallError(call: "opendir", path: path, errno: errno) }
        self.directory = directory
    }

    deinit { closedir(directory) }

    /// The next names (no `.`/`..`), at most `count`; empty at the end.
    package func next(upTo count: Int) -> [[UInt8]] {
        var names: [[UInt8]] = []
        while names.count < count, let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(name)
        }
        return names
    }
}

/// A NUL-terminated path built from a directory and a raw name, for system calls on names that
/// may not be valid UTF-8 (a Swift `String` would replace those bytes and miss the file).
package func cPath(_ directory: String, _ name: [UInt8]) -> [CChar] {
    var bytes = Array(directory.utf8)
    bytes.append(UInt8(ascii: "/"))
    bytes.append(contentsOf: name)
    bytes.append(0)
    return bytes.map { CChar(bitPattern: $0) }
}

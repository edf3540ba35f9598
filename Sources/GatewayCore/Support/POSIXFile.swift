import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failed system call, with errno kept so callers can tell "disk full" from the rest.
public struct SystemCallError: Error, Sendable, CustomStringConvertible {
    public let call: String
    public let path: String
    public let errno: Int32

    public var isNoSpace: Bool { errno == ENOSPC || errno == EDQUOT }
    public var description: String { "\(call)(\(path)): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// The durable-file primitives the store is built on. Every write that must survive power loss
/// goes temp file → fsync → rename → fsync(directory); these are the only places that do it.
enum POSIXFile {
    static func check(_ result: Int32, _ call: String, _ path: String) throws(SystemCallError) {
        if result < 0 { throw SystemCallError(call: call, path: path, errno: errno) }
    }

    /// Opens for writing a file that must not exist yet (O_EXCL: two writers can never share one).
    static func createExclusive(_ path: String, mode: mode_t = 0o640) throws(SystemCallError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        try check(fd, "open", path)
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(SystemCallError) {
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

    static func fsyncFile(_ fd: Int32, path: String) throws(SystemCallError) {
        try check(fsync(fd), "fsync", path)
    }

    /// Makes a rename or unlink in `directory` durable.
    static func fsyncDirectory(_ directory: String) throws(SystemCallError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(fd, "open", directory)
        defer { close(fd) }
        try check(fsync(fd), "fsync", directory)
    }

    static func rename(_ from: String, _ to: String) throws(SystemCallError) {
        try check(Glibc.rename(from, to), "rename", from)
    }

    /// Moves a file without ever replacing an existing target: `link` fails with EEXIST where a
    /// plain `rename` would silently destroy the file already there. Same file system only.
    static func moveNoReplace(_ from: UnsafePointer<CChar>, _ to: UnsafePointer<CChar>) throws(SystemCallError) {
        try check(link(from, to), "link", String(cString: to))
        _ = unlink(from)
    }

    static func unlinkIfPresent(_ path: String) {
        _ = unlink(path)
    }

    /// Bytes available to an unprivileged writer on the file system holding `path`.
    static func freeBytes(at path: String) throws(SystemCallError) -> Int64 {
        var stats = statvfs()
        try check(statvfs(path, &stats), "statvfs", path)
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    static func makeDirectory(_ path: String, mode: mode_t = 0o750) throws {
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: Int(mode)])
    }

    /// Names in a directory (no `.`/`..`), as raw bytes: a name that is not UTF-8 must still be
    /// movable, so it is never decoded lossily.
    static func listDirectory(_ path: String) throws(SystemCallError) -> [[UInt8]] {
        guard let directory = opendir(path) else { throw SystemCallError(call: "opendir", path: path, errno: errno) }
        defer { closedir(directory) }
        var names: [[UInt8]] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(name)
        }
        return names
    }
}

/// A NUL-terminated path built from a directory and a raw name, for system calls on names that
/// may not be valid UTF-8 (a Swift `String` would replace those bytes and miss the file).
func cPath(_ directory: String, _ name: [UInt8]) -> [CChar] {
    var bytes = Array(directory.utf8)
    bytes.append(UInt8(ascii: "/"))
    bytes.append(contentsOf: name)
    bytes.append(0)
    return bytes.map { CChar(bitPattern: $0) }
}

import Foundation
import Signing
#if canImport(Glibc)
import Glibc
#endif

/// The file primitives the hub's durability rests on: write then fsync, rename or link into
/// place, fsync the directory. Errors keep the call and the path for the log; clients only ever
/// see `HubError.storage`.
enum DurableFiles {
    struct Failure: Error, CustomStringConvertible {
        let call: String
        let path: String
        let errno: Int32
        var description: String { "\(call)(\(path)): \(String(cString: strerror(errno)))" }
    }

    static func check(_ result: Int32, _ call: String, _ path: String) throws {
        if result != 0 { throw Failure(call: call, path: path, errno: errno) }
    }

    static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
    }

    static func fsyncPath(_ path: String, directory: Bool = false) throws {
        let fd = open(path, directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY)
        guard fd >= 0 else { throw Failure(call: "open", path: path, errno: errno) }
        defer { close(fd) }
        try check(fsync(fd), "fsync", path)
    }

    static func rename(_ from: String, _ to: String) throws {
        try check(Glibc.rename(from, to), "rename", to)
    }

    /// A second name for a complete file (the hand-off folder): atomic, never replaces an
    /// existing file, no second copy of the bytes.
    static func link(_ from: String, _ to: String) throws {
        try check(Glibc.link(from, to), "link", to)
    }

    static func remove(_ path: String) {
        unlink(path)
    }

    static func size(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// SHA-256 of a file as lowercase hex (streamed: constant memory whatever the size).
    static func sha256(_ path: String) throws -> String {
        try FileDigest.compute(path: path, algorithm: .sha256).map { String(format: "%02x", $0) }.joined()
    }
}

/// A file being appended to by one request (a whole package, or one PATCH of an upload). The
/// bytes go to the page cache as they arrive; `finish` fsyncs, however the request ended, so what
/// the hub reports as received is on disk.
final class AppendingFile: @unchecked Sendable {  // used by one request at a time
    let path: String
    private var fd: Int32
    private(set) var size: Int64

    init(path: String, create: Bool) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | (create ? (O_CREAT | O_EXCL) : 0), 0o640)
        guard fd >= 0 else { throw DurableFiles.Failure(call: "open", path: path, errno: errno) }
        var info = stat()
        fstat(fd, &info)
        size = Int64(info.st_size)
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw DurableFiles.Failure(call: "write", path: path, errno: errno)
            }
            offset += written
        }
        size += Int64(bytes.count)
    }

    func finish() throws {
        guard fd >= 0 else { return }
        defer { close(fd); fd = -1 }
        try DurableFiles.check(fsync(fd), "fsync", path)
    }

    deinit { if fd >= 0 { close(fd) } }
}

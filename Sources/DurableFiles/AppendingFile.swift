// A file appended to by one writer and fsynced when it is done.
#if canImport(Glibc)
import Glibc
#endif

/// A file being appended to by one request (the hub's whole package, or one PATCH of an upload).
/// The bytes go to the page cache as they arrive; `finish` fsyncs, however the request ended, so
/// what is reported as received is on disk.
package final class AppendingFile: @unchecked Sendable {  // used by one request at a time
    package let path: String
    private var fd: Int32
    package private(set) var size: Int64

    package init(path: String, create: Bool) throws(SystemCallError) {
        self.path = path
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | (create ? (O_CREAT | O_EXCL) : 0), 0o640)
        guard fd >= 0 else { throw SystemCallError(call: "open", path: path, errno: errno) }
        var info = stat()
        fstat(fd, &info)
        size = Int64(info.st_size)
    }

    package func append(_ bytes: UnsafeRawBufferPointer) throws(SystemCallError) {
        try POSIXFile.writeAll(fd, bytes, path: path)
        size += Int64(bytes.count)
    }

    package func finish() throws(SystemCallError) {
        guard fd >= 0 else { return }
        defer { close(fd); fd = -1 }
        try POSIXFile.fsyncFile(fd, path: path)
    }

    deinit { if fd >= 0 { close(fd) } }
}

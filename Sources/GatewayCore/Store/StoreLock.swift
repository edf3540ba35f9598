import DurableFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The data directory's owner lock: one process (the daemon, or an offline `store check`) works
/// on a store at a time. An advisory `flock` on `gatewayd.lock`, released by the kernel when the
/// process dies, so a `kill -9` never leaves a stale lock behind.
package final class StoreLock: Sendable {
    private let fd: Int32
    package let path: String

    package enum Failure: Error, CustomStringConvertible {
        case heldByAnotherProcess(path: String)
        case system(SystemCallError)

        package var description: String {
            switch self {
            case .heldByAnotherProcess(let path):
                "Một tiến trình gatewayd khác đang dùng thư mục dữ liệu này (\(path)). / Another gatewayd process is using this data directory (\(path))."
            case .system(let error): error.description
            }
        }
    }

    package init(layout: StoreLayout) throws(Failure) {
        path = layout.lockPath
        do { try POSIXFile.makeDirectory(layout.dataDirectory) } catch {
            throw .system(SystemCallError(call: "mkdir", path: layout.dataDirectory, errno: errno))
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        if fd < 0 { throw .system(SystemCallError(call: "open", path: path, errno: errno)) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { throw .heldByAnotherProcess(path: layout.dataDirectory) }
            throw .system(SystemCallError(call: "flock", path: path, errno: code))
        }
        // The holder's pid, for a technician looking at the file; the lock itself is the flock.
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        self.fd = fd
    }

    deinit { close(fd) }
}

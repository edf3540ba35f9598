import DocumentModel
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Hears the mount table change without polling it: `/proc/self/mountinfo` reports POLLPRI
/// when a file system is mounted or unmounted in this namespace (proc(5)). A thread of its own
/// waits in `poll` on it and on a pipe that `stop` writes; each change notifies `signal`, and the
/// listener looks for itself what changed. The stick is mounted by the image's udev rule and
/// mount unit (docs/backup.md); the daemon needs no privilege to see it.
final class MountWatcher: @unchecked Sendable {
    let signal = ChangeSignal()
    private let table: Int32
    private let wake: (read: Int32, write: Int32)
    private var thread: Thread?

    /// Nil when the mount table cannot be opened (no /proc): no stick is ever noticed then, and
    /// a backup is still copied to one mounted when it is taken.
    init?() {
        table = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)
        guard table >= 0 else { return nil }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            close(table)
            return nil
        }
        wake = (fds[0], fds[1])
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let thread = Thread { [table, wake, signal] in
            var fds = [pollfd(fd: table, events: Int16(POLLPRI), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            while true {
                let ready = poll(&fds, 2, -1)
                if ready < 0 && errno == EINTR { continue }
                if ready < 0 || fds[1].revents != 0 { break }
                if fds[0].revents & Int16(POLLPRI | POLLERR) != 0 { signal.notify() }
            }
            close(table)
            close(wake.read)
        }
        thread.name = "mount-watcher"
        self.thread = thread
        thread.start()
    }

    func stop() {
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        close(wake.write)
        signal.close()
    }
}

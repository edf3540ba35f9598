import DurableFiles
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Names of files that became complete in one directory, from inotify: a file closed after
/// writing (`IN_CLOSE_WRITE`) or renamed in (`IN_MOVED_TO`). A dedicated thread sleeps in
/// `poll(2)` on the inotify descriptor and a wake-up pipe, so an idle folder costs no CPU.
final class DirectoryWatcher: Sendable {
    enum Event: Sendable, Equatable {
        case completed([UInt8])
        /// The kernel's queue overflowed: events were lost, the directory must be rescanned.
        case overflow
    }

    private let inotifyFD: Int32
    private let stopPipe: (read: Int32, write: Int32)
    private let handler: @Sendable (Event) -> Void
    let directory: String

    init(directory: String, handler: @escaping @Sendable (Event) -> Void) throws(SystemCallError) {
        self.directory = directory
        self.handler = handler
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        try POSIXFile.check(fd, "inotify_init1", directory)
        let mask = UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_ONLYDIR)
        if inotify_add_watch(fd, directory, mask) < 0 {
            let code = errno
            close(fd)
            throw SystemCallError(call: "inotify_add_watch", path: directory, errno: code)
        }
        var fds: [Int32] = [0, 0]
        if pipe(&fds) != 0 {
            let code = errno
            close(fd)
            throw SystemCallError(call: "pipe", path: directory, errno: code)
        }
        for end in fds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        inotifyFD = fd
        stopPipe = (fds[0], fds[1])
    }

    func start() {
        let thread = Thread { [self] in self.loop() }
        thread.name = "hot-folder-watch"
        thread.start()
    }

    /// Wakes the thread and makes it exit; the descriptors are closed by it.
    func stop() {
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
    }

    private func loop() {
        defer {
            close(inotifyFD)
            close(stopPipe.read)
            close(stopPipe.write)
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var fds = [pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 { return }
            let count = buffer.withUnsafeMutableBytes { read(inotifyFD, $0.baseAddress, $0.count) }
            if count <= 0 {
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                return
            }
            for event in Self.decode(buffer[0..<count]) { handler(event) }
        }
    }

    /// Splits a read of `struct inotify_event` records (pure, so it can be tested on bytes).
    static func decode(_ bytes: ArraySlice<UInt8>) -> [Event] {
        var events: [Event] = []
        var offset = bytes.startIndex
        let headerSize = 16  // wd (4), mask (4), cookie (4), len (4)
        while offset + headerSize <= bytes.endIndex {
            func u32(_ at: Int) -> UInt32 {
                UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
            }
            let mask = u32(offset + 4)
            let length = Int(u32(offset + 12))
            let nameStart = offset + headerSize
            guard nameStart + length <= bytes.endIndex else { break }
            let name = Array(bytes[nameStart..<nameStart + length].prefix { $0 != 0 })
            if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                events.append(.overflow)
            } else if mask & UInt32(IN_ISDIR) == 0, !name.isEmpty {
                events.append(.completed(name))
            }
            offset = nameStart + length
        }
        return events
    }
}

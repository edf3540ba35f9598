// Waits on file-system conditions through inotify: no sleeping, no polling interval.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Waiting for a condition on files without sleeping: inotify wakes the test each time something
/// in `directory` is created, written, renamed or removed, and the condition is checked again. `timeout` only bounds
/// a failure.
public func waitUntil(changesIn directory: String, timeout: Duration = .seconds(30), _ condition: () -> Bool) -> Bool {
    let watch = inotify_init1(Int32(IN_CLOEXEC))
    guard watch >= 0 else { return condition() }
    defer { close(watch) }
    // Watched before the first check: a change between the check and the poll still wakes it.
    _ = inotify_add_watch(watch, directory, UInt32(IN_MODIFY | IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM))
    let deadline = ContinuousClock.now + timeout
    var events = [UInt8](repeating: 0, count: 4096)
    while true {
        if condition() { return true }
        let left = deadline - ContinuousClock.now
        guard left > .zero else { return false }
        var descriptor = pollfd(fd: watch, events: Int16(POLLIN), revents: 0)
        let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1
        if poll(&descriptor, 1, Int32(min(milliseconds, Int64(Int32.max)))) > 0 { _ = read(watch, &events, events.count) }
    }
}


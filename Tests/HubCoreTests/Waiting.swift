import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Waiting for a condition on files without sleeping: inotify wakes the test each time something
/// in `directory` is created or written, and the condition is checked again. `timeout` only bounds
/// a failure.
func waitUntil(changesIn directory: String, timeout: Duration = .seconds(30), _ condition: () -> Bool) -> Bool {
    let watch = inotify_init1(Int32(IN_CLOEXEC))
    guard watch >= 0 else { return condition() }
    defer { close(watch) }
    // Watched before the first check: a change between the check and the poll still wakes it.
    _ = inotify_add_watch(watch, directory, UInt32(IN_MODIFY | IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO))
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

/// How many times `text` occurs in the file at `path` (0 when it cannot be read).
func occurrences(of text: String, inFile path: String) -> Int {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").components(separatedBy: text).count - 1
}

func fileSize(_ path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
}

extension RunningHub {
    /// Waits until hubd's log holds `text` at least `count` times (a line hubd writes once the
    /// state the test needs is reached).
    @discardableResult
    func waitForLog(_ text: String, count: Int = 1, timeout: Duration = .seconds(30)) -> Bool {
        waitUntil(changesIn: directory, timeout: timeout) { occurrences(of: text, inFile: log) >= count || !process.isRunning }
            && occurrences(of: text, inFile: log) >= count
    }

    /// curl left running (a long poll, a slow upload) while the test goes on; `finish` waits for it.
    func startCurl(_ arguments: [String], as client: String = "box") throws -> BackgroundCurl {
        try BackgroundCurl(directory: directory, arguments: ["-sS", "--max-time", "90", "--cacert", hubCA.root,
                                                             "--cert", "\(clients.directory)/\(client).pem", "--key", "\(clients.directory)/\(client).key"]
                               + arguments.dropLast() + ["https://localhost:\(port)" + arguments.last!])
    }
}

final class BackgroundCurl: @unchecked Sendable {
    let process = Process()
    let output: String
    let body: String

    init(directory: String, arguments: [String]) throws {
        let name = UUID().uuidString
        output = directory + "/curl-\(name).out"
        body = directory + "/curl-\(name).body"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-o", body, "-w", "%{http_code}"] + arguments
        process.standardOutput = FileHandle(forWritingAtPath: output)
        process.standardError = FileHandle(forWritingAtPath: output)
        try process.run()
    }

    /// Waits for curl's end: the HTTP status (0 without an answer), the body, curl's exit status.
    func finish() -> (http: Int, body: String, exit: Int32) {
        process.waitUntilExit()
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let http = Int(text.suffix(3)) ?? 0
        return (http, (try? String(contentsOfFile: body, encoding: .utf8)) ?? "", process.terminationStatus)
    }
}

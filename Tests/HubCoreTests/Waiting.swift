import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

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

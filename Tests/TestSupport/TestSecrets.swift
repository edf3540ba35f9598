// The tests' secrets, from the one list scripts/test searches every log for.
import Foundation

/// PINs and passwords the tests use, read from `scripts/lib/test-secrets.txt` (README.md, "Secrets
/// in the tests' logs"): a test takes its secret from that list, so the values the run's logs are
/// searched for are the values the tests really used.
public enum TestSecrets {
    public static let file = repositoryRoot.appendingPathComponent("scripts/lib/test-secrets.txt").path

    /// The value named `name` (the list's first column). A name not in the list is a mistake in
    /// the test, not a missing tool: it stops the run.
    public static func value(_ name: String) -> String {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.count >= 2, fields[0] == name { return String(fields[1]) }
        }
        preconditionFailure("no secret named \(name) in \(file)")
    }
}

/// The logs a test's programs wrote in its temporary directory, kept for scripts/test's search for
/// secrets: when `TEST_LOG_DIR` is set, `keep` copies the file there (under a unique name) before
/// the test removes its directory. Without it (a plain `swift test`) nothing is kept.
public enum TestLogs {
    public static func keep(_ path: String, as name: String) {
        guard let directory = ProcessInfo.processInfo.environment["TEST_LOG_DIR"], !directory.isEmpty,
              FileManager.default.fileExists(atPath: path) else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try? FileManager.default.copyItem(atPath: path, toPath: directory + "/\(name)-\(UUID().uuidString.prefix(8)).log")
    }
}

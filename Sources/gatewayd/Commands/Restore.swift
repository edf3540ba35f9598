// `gatewayd restore`: a backup onto a data directory, after checking it whole (docs/backup.md).
import ArgumentParser
import Foundation
import GatewayCore

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Khôi phục hộp từ tệp sao lưu / restore the box from a backup file.",
        discussion: """
            Reads the whole file first: a damaged or truncated backup is refused before anything \
            is written. A data directory that holds a store is replaced only with --force (the \
            old one is moved to replaced-<time>/, never deleted). The daemon must not run on it. \
            Exit 0: restored (what to do next is printed); 1: refused or failed.
            """)
    @Argument(help: "The backup file.") var file: String
    @Option(name: .customLong("data-dir"), help: "The data directory to restore into.") var dataDirectory: String
    @Flag(help: "Replace a store already in the data directory.") var force = false
    @Option(help: "File whose first line is the passphrase of the keys (else GATEWAYD_BACKUP_PASSPHRASE); without one, keys are not restored.")
    var passphraseFile: String?

    func run() async throws {
        let passphrase = try BackupPassphrase.read(file: passphraseFile, required: false)
        let summary: RestoreSummary
        do {
            summary = try BackupRestore.restore(path: file, dataDirectory: dataDirectory, force: force, passphrase: passphrase)
        } catch let failure as BackupFailure {
            throw CLI.fail(failure.description)
        } catch {
            throw CLI.fail("Khôi phục thất bại / restore failed: \(error)")
        }
        let started = ISO8601DateFormatter().string(from: summary.description.startedAt)
        print("Đã khôi phục / restored: \(summary.filesRestored) tệp / files, \(summary.description.documents) văn bản / documents "
              + "(sao lưu lúc / backup of \(started), \(summary.description.agencyCode ?? "?"))")
        if let aside = summary.replacedDirectory { print("Dữ liệu cũ đã chuyển sang / the previous data was moved to: \(aside)") }
        print("Việc cần làm tiếp / next steps:")
        for step in summary.nextSteps { print("  - \(step)") }
    }
}

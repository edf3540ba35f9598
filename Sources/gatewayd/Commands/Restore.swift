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
            --verify-only checks the file and writes nothing. \
            Exit 0: restored or intact (what to do next is printed); 1: refused or failed.
            """)
    @Argument(help: "The backup file.") var file: String
    @Option(name: .customLong("data-dir"), help: "The data directory to restore into.") var dataDirectory: String?
    @Flag(help: "Only check the file whole (every byte, and the keys with a passphrase); write nothing.") var verifyOnly = false
    @Flag(help: "Replace a store already in the data directory.") var force = false
    @Option(help: "File whose first line is the passphrase of the keys (else GATEWAYD_BACKUP_PASSPHRASE); without one, keys are not restored.")
    var passphraseFile: String?

    func validate() throws {
        if dataDirectory == nil, !verifyOnly { throw ValidationError("cần --data-dir (hoặc --verify-only) / --data-dir is required (or --verify-only)") }
    }

    func run() async throws {
        let passphrase = try BackupPassphrase.read(file: passphraseFile, required: false)
        if verifyOnly { return try verify(passphrase: passphrase) }
        let summary: RestoreSummary
        do {
            summary = try BackupRestore.restore(path: file, dataDirectory: dataDirectory ?? "", force: force, passphrase: passphrase)
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

    /// `--verify-only`: the same reading a restore starts with, and what the file holds.
    private func verify(passphrase: String?) throws {
        let verified: VerifiedBackup
        do { verified = try BackupReader.verify(path: file, passphrase: passphrase) } catch {
            throw CLI.fail(error.description)
        }
        let description = verified.description
        print("Bản sao lưu nguyên vẹn / the backup is intact: \(file)")
        print("Sao lưu lúc / taken at: \(ISO8601DateFormatter().string(from: description.startedAt)) trên / on \(description.hostName) "
              + "(\(description.agencyCode ?? "?"))")
        print("Văn bản / documents: \(description.documents); mục / entries: \(verified.entries.count)")
        print(description.keysIncluded
            ? (passphrase == nil ? "Có khóa riêng (chưa kiểm mật khẩu) / private keys included (passphrase not checked)"
                                 : "Có khóa riêng, mật khẩu đúng / private keys included, the passphrase opens them")
            : "Không có khóa riêng / no private keys")
    }
}

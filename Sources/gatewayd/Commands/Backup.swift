// `gatewayd backup`: one file holding the store, its files and the configuration (docs/backup.md).
import ArgumentParser
import Foundation
import GatewayCore

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sao lưu hộp vào một tệp / back the box up into one file.",
        discussion: """
            Works while the daemon runs: the database is copied with SQLite's online backup API \
            (intake goes on), then the documents, packages and configuration that copy names. \
            Private keys only with --include-keys, then sealed with a passphrase (scrypt, AES-GCM) \
            read from --passphrase-file or GATEWAYD_BACKUP_PASSPHRASE. Exit 0: written; 1: failed.
            """)
    @Option(name: .customLong("out"), help: "The backup file to write (mode 0600, through a temporary name).") var output: String
    @Flag(help: "Include the box's private keys, encrypted with a passphrase.") var includeKeys = false
    @Option(help: "File whose first line is the passphrase (else GATEWAYD_BACKUP_PASSPHRASE).") var passphraseFile: String?
    @Flag(help: "JSON output.") var json = false
    @OptionGroup var location: Location

    func run() async throws {
        let configuration = try location.resolve()
        let passphrase = includeKeys ? try BackupPassphrase.read(file: passphraseFile, required: true) : nil
        let summary: BackupSummary
        do {
            summary = try BackupWriter.write(configuration: configuration, configurationFile: location.configurationFile,
                                             includeKeys: passphrase, toFile: output)
        } catch let failure as BackupFailure {
            throw CLI.fail(failure.description)
        } catch {
            throw CLI.fail("Sao lưu thất bại / backup failed: \(error)")
        }
        if json { return try CLI.printJSON(summary) }
        let started = ISO8601DateFormatter().string(from: summary.description.startedAt)
        print("Đã sao lưu / backed up: \(output)")
        print("Thời điểm chụp kho / snapshot taken at: \(started)")
        print("Văn bản / documents: \(summary.description.documents); tệp / files: \(summary.files); kích thước / size: \(summary.bytes) bytes")
        print(summary.description.keysIncluded
            ? "Khóa riêng: có, đã mã hóa bằng mật khẩu / private keys: included, encrypted with the passphrase"
            : "Khóa riêng: không có (khôi phục sẽ cần đăng ký lại hộp) / private keys: not included (a restore will need re-enrolment)")
        for path in summary.missing { print("Thiếu tệp (kho đã ghi nhận) / file missing (known to the store): \(path)") }
    }
}

/// The passphrase protecting a backup's keys: never on the command line (it would show in `ps`).
enum BackupPassphrase {
    static let environmentName = "GATEWAYD_BACKUP_PASSPHRASE"

    static func read(file: String?, required: Bool) throws -> String? {
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                  let line = text.split(separator: "\n", omittingEmptySubsequences: false).first, !line.isEmpty else {
                throw CLI.fail("Không đọc được mật khẩu từ \(file) / cannot read a passphrase from \(file)")
            }
            return String(line)
        }
        if let value = ProcessInfo.processInfo.environment[environmentName], !value.isEmpty { return value }
        if required {
            throw CLI.fail("--include-keys cần mật khẩu: --passphrase-file hoặc \(environmentName) / "
                           + "--include-keys needs a passphrase: --passphrase-file or \(environmentName)")
        }
        return nil
    }
}

import ArgumentParser
import DocumentModel
import Foundation
import HubCore

/// `hubd enroll-token`: one-time tokens with which boxes enrol (docs/hubd.md, "Enrolment").
/// The token is printed once, when made; the hub keeps only its SHA-256.
struct EnrollToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll-token",
        abstract: "Mã đăng ký một lần cho hộp / one-time enrolment tokens for boxes",
        subcommands: [Create.self, List.self, RevokeToken.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tạo mã đăng ký / make enrolment tokens",
            discussion: "--from: tệp CSV \"mã,tên\" (một xã một dòng); in ra \"mã,mã đăng ký\" / a CSV file \"code,name\" (a commune a line); prints \"code,token\".")

        @OptionGroup var file: ConfigurationFile

        @Option(help: "Mã cơ quan của hộp / the box's agency code")
        var agency: String?

        @Option(help: "Tệp CSV các xã (mã,tên) / a CSV file of communes (code,name)")
        var from: String?

        @Option(help: "Ghi \"mã,mã đăng ký\" vào tệp này (quyền 0600) thay vì in ra / write \"code,token\" lines to this file (mode 0600) instead of printing")
        var out: String?

        @Option(help: "Hết hạn sau / expires after (\"7d\", \"12h\")")
        var expires: String = "7d"

        func run() throws {
            let configuration = try file.load()
            guard let lifetime = DurationText.parse(expires), lifetime > .zero else {
                throw ValidationError("--expires: \"7d\", \"12h\", \"30m\"")
            }
            var agencies: [(code: String, name: String?)] = []
            if let agency { agencies.append((agency, nil)) }
            if let from { agencies += try Self.communes(csv: from) }
            guard !agencies.isEmpty, (agency == nil) != (from == nil) else {
                throw ValidationError("--agency CODE hoặc --from FILE.csv / --agency CODE or --from FILE.csv")
            }
            // A token for a commune the hub does not serve would yield a certificate that opens
            // nothing: all are checked before any is made.
            let served = Dictionary(configuration.agencies.filter(\.served).map { ($0.code, $0.name) }) { first, _ in first }
            let unknown = agencies.map(\.code).filter { served[$0] == nil }
            guard unknown.isEmpty else {
                throw ValidationError("Không phải xã do hub phục vụ ([[agency]] served = true) / not communes this hub serves: \(unknown.joined(separator: ", "))")
            }
            let expiresAt = Date().addingTimeInterval(TimeInterval(lifetime.components.seconds))
            let made = try EnrolmentRecords(dataDirectory: configuration.dataDirectory)
                .createTokens(for: agencies.map { ($0.code, $0.name ?? served[$0.code]) }, expiresAt: expiresAt)
            if let out {
                let text = made.map { "\($0.agency),\($0.token.text)\n" }.joined()
                guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw ValidationError("Không ghi được / cannot write \(out)")
                }
                print("OK: \(made.count) mã đăng ký / tokens → \(out), hết hạn / expire \(expiresAt.formatted(.iso8601))")
            } else if agency != nil, let one = made.first {
                print(one.token.text)
            } else {
                for token in made { print("\(token.agency),\(token.token.text)") }
            }
        }

        /// "code,name" lines; a header line, blank lines and `#` comments are skipped; a name
        /// may be quoted (it may hold a comma).
        static func communes(csv path: String) throws -> [(code: String, name: String?)] {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            var communes: [(code: String, name: String?)] = []
            for (number, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                guard !line.isEmpty, !line.hasPrefix("#") else { continue }
                let comma = line.firstIndex(of: ",") ?? line.endIndex
                let code = line[..<comma].trimmingCharacters(in: .whitespaces)
                var name = comma == line.endIndex ? "" : line[line.index(after: comma)...].trimmingCharacters(in: .whitespaces)
                if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = String(name.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"") }
                // The header: its first field is no agency code (codes hold digits).
                if number == 0, !code.contains(where: \.isNumber) { continue }
                guard !code.isEmpty else { throw ValidationError("\(path):\(number + 1): thiếu mã / no code") }
                communes.append((code, name.isEmpty ? nil : name))
            }
            let codes = communes.map(\.code)
            guard Set(codes).count == codes.count else { throw ValidationError("\(path): mã trùng / duplicate code") }
            return communes
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Liệt kê mã đăng ký (không hiện mã) / list tokens (never the token itself)")

        @OptionGroup var file: ConfigurationFile

        func run() throws {
            let configuration = try file.load()
            print("id\tagency\tcreated\texpires\tstate")
            for row in try EnrolmentRecords(dataDirectory: configuration.dataDirectory).tokens() {
                print("\(row.id)\t\(row.agency)\t\(row.createdAt.formatted(.iso8601))\t\(row.expiresAt.formatted(.iso8601))\t\(row.state.rawValue)")
            }
        }
    }

    struct RevokeToken: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Thu hồi mã đăng ký chưa dùng / revoke unused tokens")

        @OptionGroup var file: ConfigurationFile

        @Option(help: "Mọi mã chưa dùng của cơ quan này / every unused token of this agency")
        var agency: String?

        @Option(help: "Số id trong `list` / the id `list` shows")
        var id: Int64?

        func run() throws {
            guard (agency == nil) != (id == nil) else { throw ValidationError("--agency CODE hoặc --id N / --agency CODE or --id N") }
            let configuration = try file.load()
            let count = try EnrolmentRecords(dataDirectory: configuration.dataDirectory).revokeTokens(agency: agency, id: id)
            print("OK: \(count) mã đã thu hồi / tokens revoked")
            if count == 0 { throw ExitCode(1) }
        }
    }
}

/// `--config`, shared by the subcommands above.
struct ConfigurationFile: ParsableArguments {
    @Option(help: "Tệp cấu hình TOML / the TOML configuration file")
    var config: String = "/etc/hubd/hubd.toml"

    func load() throws -> HubConfiguration { try HubConfiguration.load(path: config) }
}

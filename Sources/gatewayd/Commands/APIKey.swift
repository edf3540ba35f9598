// `gatewayd api-key add|list|revoke`: the commune software's API keys for the console's
// `/api/v1` (docs/api.md), on the store's database as `gatewayd user` does (UserStore).
import ArgumentParser
import Console
import Foundation
import GatewayCore

struct APIKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-key",
        abstract: "Khóa API cho phần mềm quản lý văn bản / API keys for the document software.",
        discussion: "Khóa chỉ hiện một lần khi tạo; hộp chỉ giữ SHA-256 của nó. / The key is shown once when made; the box keeps only its SHA-256.",
        subcommands: [Add.self, List.self, Revoke.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tạo khóa / make a key (printed once).")
        @Argument(help: "The key's name (a-z, 0-9, . _ -), e.g. the software's.") var name: String
        @Flag(help: "Chỉ đọc / read only: list and read documents and the inbox, change nothing.") var readOnly = false
        @OptionGroup var location: Location

        func run() async throws {
            let configuration = try UserStore.configuration(location)
            try UserStore.with(configuration) { accounts in
                do {
                    switch try APIKeys.add(name: name, role: readOnly ? .readOnly : .vanThu, by: "cli:" + CLI.user,
                                           rules: AccountRules(configuration), accounts: accounts) {
                    case .failure(let problem): throw CLI.fail(problem.description)
                    case .success(let token):
                        FileHandle.standardError.write(Data("Khóa chỉ hiện một lần, hãy chép ngay. / Shown once: copy it now.\n".utf8))
                        print(token)
                    }
                } catch let failure as AccountStore.APIKeyFailure { throw CLI.fail(failure.description) }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Liệt kê khóa / list the keys (never the keys themselves).")
        @Flag(help: "JSON output.") var json = false
        @OptionGroup var location: Location

        func run() async throws {
            try UserStore.with(try UserStore.configuration(location)) { accounts in
                let keys = try accounts.apiKeys()
                if json { try CLI.printJSON(keys); return }
                print(Table.render(
                    header: ["TÊN/NAME", "VAI TRÒ/ROLE", "TẠO/CREATED", "BỞI/BY", "TRẠNG THÁI/STATE"],
                    rows: keys.map { [$0.name, $0.role.rawValue, "\($0.createdAt)", $0.createdBy, $0.revokedAt.map { "thu hồi/revoked \($0)" } ?? "dùng/active"] }))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Thu hồi khóa / revoke a key (refused from the next request on).")
        @Argument var name: String
        @OptionGroup var location: Location

        func run() async throws {
            try UserStore.with(try UserStore.configuration(location)) { accounts in
                do { try accounts.revokeAPIKey(name, audit: UserStore.audit("api_key_revoke", name)) } catch let failure as AccountStore.APIKeyFailure {
                    throw CLI.fail(failure.description)
                }
            }
            print("Đã thu hồi / revoked: \(name)")
        }
    }
}

// `gatewayd user add|passwd|disable|enable|unlock|list`: the console's accounts from the box's
// command line, on the store's database directly (docs/console.md, "Accounts from the command line").
import ArgumentParser
import Console
import Foundation
import GatewayCore
import Logging
#if canImport(Glibc)
import Glibc
#endif

struct User: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tài khoản của trang quản lý / the console's accounts.",
        discussion: "Mật khẩu đọc từ bàn phím hoặc stdin, không bao giờ từ tham số. / Passwords are read from the terminal or stdin, never from arguments.",
        subcommands: [Add.self, Passwd.self, Disable.self, Enable.self, Unlock.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Thêm tài khoản / add an account.")
        @Argument(help: "Login (a-z, 0-9, . _ -).") var login: String
        @Option(help: "Full name (họ và tên).") var name: String
        @Option(help: "van_thu, lanh_dao or quan_tri.") var role: String
        @Option(help: "For lanh_dao: the leader's certificate identity, e.g. CCCD:001234567890 (one of [[signing.leaders]]).") var identity: String?
        @OptionGroup var location: Location

        func run() async throws {
            let configuration = try UserStore.configuration(location)
            guard let role = ConsoleRole(rawValue: role) else {
                throw CLI.fail("Vai trò phải là van_thu, lanh_dao hoặc quan_tri. / The role must be van_thu, lanh_dao or quan_tri.", code: .validationFailure)
            }
            try UserStore.with(configuration) { accounts in
                let rules = AccountRules(configuration)
                // Checked before the password is asked for, so a typo costs no typing.
                if let problem = rules.check(login: login) { throw CLI.fail(problem.description) }
                let password = try PasswordInput.read(twice: true)
                switch rules.newUser(login: login, displayName: name, role: role, identity: identity, password: password,
                                     passwordAgain: nil, existing: try accounts.users()) {
                case .failure(let problem): throw CLI.fail(problem.description)
                case .success(let accepted):
                    var user = accepted.user
                    user.passwordHash = Passwords.hash(accepted.password)
                    try accounts.add(user, audit: UserStore.audit("user_add", user.login, detail: user.role.rawValue))
                    // A quản trị exists now: the first-run code has nothing left to open.
                    if user.role == .quanTri { SetupCode(layout: configuration.layout).consume() }
                    print("Đã thêm / added: \(user.login) (\(user.role.rawValue))")
                }
            }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Đặt mật khẩu mới / set a new password (ends the account's sessions).")
        @Argument var login: String
        @OptionGroup var location: Location

        func run() async throws {
            let configuration = try UserStore.configuration(location)
            try UserStore.with(configuration) { accounts in
                guard try accounts.user(login) != nil else { throw CLI.fail(AccountStore.Failure.noSuchUser(login).description) }
                let password = try PasswordInput.read(twice: true)
                if let problem = AccountRules(configuration).check(password: password, again: nil) { throw CLI.fail(problem.description) }
                try accounts.setPassword(login, hash: Passwords.hash(password), audit: UserStore.audit("password", login))
                print("Đã đổi mật khẩu / password changed: \(login)")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Khoá tài khoản / disable an account (ends its sessions).")
        @Argument var login: String
        @OptionGroup var location: Location

        func run() async throws {
            try UserStore.change(location, login, action: "disable", done: "Đã khoá / disabled: \(login)") { try $0.setDisabled(login, true, audit: $1) }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mở lại tài khoản / enable an account.")
        @Argument var login: String
        @OptionGroup var location: Location

        func run() async throws {
            try UserStore.change(location, login, action: "enable", done: "Đã mở / enabled: \(login)") { try $0.setDisabled(login, false, audit: $1) }
        }
    }

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Xoá các lần đăng nhập sai / clear the account's failed logins and its delay.")
        @Argument var login: String
        @OptionGroup var location: Location

        func run() async throws {
            try UserStore.change(location, login, action: "unlock", done: "Đã mở khoá đăng nhập / unlocked: \(login)") { try $0.unlock(login, audit: $1) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Liệt kê tài khoản / list the accounts.")
        @Flag(help: "JSON output.") var json = false
        @OptionGroup var location: Location

        struct Entry: Encodable {
            var login: String
            var displayName: String
            var role: String
            var identity: String?
            var disabled: Bool
            var failedLogins: Int
        }

        func run() async throws {
            try UserStore.with(try UserStore.configuration(location)) { accounts in
                let entries = try accounts.users().map {
                    Entry(login: $0.login, displayName: $0.displayName, role: $0.role.rawValue, identity: $0.identity, disabled: $0.disabled,
                          failedLogins: $0.failedLogins)
                }
                if json { try CLI.printJSON(entries); return }
                print(Table.render(
                    header: ["LOGIN", "HỌ TÊN/NAME", "VAI TRÒ/ROLE", "ĐỊNH DANH/IDENTITY", "TRẠNG THÁI/STATE", "SAI/FAILED"],
                    rows: entries.map { [$0.login, $0.displayName, $0.role, $0.identity ?? "", $0.disabled ? "khoá/disabled" : "dùng/active", "\($0.failedLogins)"] }))
            }
        }
    }
}

/// The accounts' tables, opened the way the other offline commands open the store: under the
/// data directory's lock when the daemon is stopped (migrating a store older than the console);
/// beside the running daemon otherwise. Not through the local API: its socket is open to the
/// commune software's group, and who may create a quản trị must be who may write the database.
enum UserStore {
    static func configuration(_ location: Location) throws -> GatewayConfiguration {
        do { return try location.resolve() } catch { throw CLI.fail("\(error)") }
    }

    static func with(_ configuration: GatewayConfiguration, _ body: (AccountStore) throws -> Void) throws {
        let layout = configuration.layout
        do {
            let lock = try StoreLock(layout: layout)
            defer { withExtendedLifetime(lock) {} }
            var logger = Logger(label: "gatewayd")
            logger.logLevel = .warning
            let store = try DocumentStore(layout: layout, limits: configuration.storeLimits, logger: logger, ioPool: .singleton)
            try body(store.accounts)
        } catch StoreLock.Failure.heldByAnotherProcess(_) {
            do { try body(try AccountStore.beside(layout)) } catch let failure as AccountStore.Failure { throw CLI.fail(failure.description) }
        } catch let failure as AccountStore.Failure {
            throw CLI.fail(failure.description)
        }
    }

    /// One change to an existing account, audited under `action`.
    static func change(_ location: Location, _ login: String, action: String, done: String,
                       _ body: (AccountStore, ConsoleAuditEntry) throws -> Void) throws {
        try with(try configuration(location)) { accounts in try body(accounts, audit(action, login)) }
        print(done)
    }

    static func audit(_ action: String, _ login: String, detail: String? = nil) -> ConsoleAuditEntry {
        ConsoleAuditEntry(at: Date(), actor: "cli:" + CLI.user, action: action, subject: login, detail: detail)
    }
}

/// A password from the terminal without echo (asked twice when `twice`), or one line of stdin
/// when it is not a terminal (scripts, tests).
enum PasswordInput {
    static func read(twice: Bool) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw CLI.fail("Không đọc được mật khẩu từ stdin. / No password on stdin.")
            }
            return line
        }
        let first = prompt("Mật khẩu / password: ")
        if twice, prompt("Nhập lại / again: ") != first {
            throw CLI.fail("Hai mật khẩu không giống nhau. / The two passwords differ.")
        }
        return first
    }

    private static func prompt(_ text: String) -> String {
        FileHandle.standardError.write(Data(text.utf8))
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return readLine(strippingNewline: true) ?? ""
    }
}

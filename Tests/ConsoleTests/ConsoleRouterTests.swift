// The console's routes in memory (Hummingbird's router test framework) over a real store, with a
// clock the test moves: first run, login, session expiry, CSRF, roles, lock-out.
@testable import Console
import DocumentModel
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import TestSupport
import TimeJSON
import XCTest

final class ConsoleRouterTests: XCTestCase {
    /// The time the console sees; only the test moves it.
    final class TestClock: Sendable {
        let date = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        var now: Date { date.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { date.withLock { $0.addTimeInterval(seconds) } }
    }

    /// A browser's memory: the cookies it was given and the last form's CSRF token.
    struct Browser {
        let client: any TestClientProtocol
        var cookies: [String: String] = [:]
        var csrf = ""

        mutating func get(_ path: String) async throws -> (status: HTTPResponse.Status, location: String?, body: String) {
            try await send(path, .get, body: nil)
        }

        /// A form as a browser posts it, with the page's CSRF token unless `csrf` says otherwise.
        mutating func post(_ path: String, _ fields: [String: String], csrf: String? = nil) async throws
            -> (status: HTTPResponse.Status, location: String?, body: String) {
            var fields = fields
            fields["csrf"] = csrf ?? self.csrf
            let body = fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
            return try await send(path, .post, body: body)
        }

        private mutating func send(_ path: String, _ method: HTTPRequest.Method, body: String?) async throws
            -> (status: HTTPResponse.Status, location: String?, body: String) {
            var headers: HTTPFields = [:]
            if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
            if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
            let response = try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
            for field in response.headers[values: .setCookie] {
                let pair = field.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let value = pair.count > 1 ? String(pair[1]) : ""
                if value.isEmpty { cookies[String(pair[0])] = nil } else { cookies[String(pair[0])] = value }
            }
            let text = String(buffer: response.body)
            if let range = text.range(of: "name=\"csrf\" value=\"") {
                csrf = String(text[range.upperBound...].prefix { $0 != "\"" })
            }
            return (response.status, response.headers[.location], text)
        }
    }

    var directory = ""
    let clock = TestClock()
    let admin = TestSecrets.value("password.console-admin")
    let other = TestSecrets.value("password.console-other")

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("console-router-\(UUID().uuidString)").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// What a test's closure works with (the test case itself is not Sendable).
    struct Rig: Sendable {
        let client: any TestClientProtocol
        let server: ConsoleServer
        let accounts: AccountStore
        let clock: TestClock
        let admin: String
        let other: String
    }

    /// Tokens as the token watcher would report them.
    struct FixedTokens: TokenStatusSource {
        let status: TokenServiceStatus
        func tokenStatus() async -> TokenServiceStatus { status }
    }

    func withConsole(tokens: (any TokenStatusSource)? = nil, hub: (@Sendable () -> RelayStatus)? = nil, _ test: @escaping @Sendable (Rig) async throws -> Void) async throws {
        let layout = StoreLayout(dataDirectory: directory)
        let store = try DocumentStore(layout: layout, limits: .init(), logger: Logger(label: "test"), ioPool: .singleton)
        let setupCode = SetupCode(layout: layout)
        _ = try setupCode.ensure()
        let ca = BoxCA(layout: layout)
        try ca.prepare(names: ServerNames(dnsNames: ["localhost"], ipAddresses: [[127, 0, 0, 1]]), now: clock.now)
        let clock = clock
        let server = ConsoleServer(accounts: store.accounts, rules: AccountRules(leaderIdentities: []), setupCode: setupCode, ca: ca,
                                   counts: { try store.countsByState() }, hub: hub, tokens: tokens, now: { clock.now }, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let application = Application(router: server.router())
        let (admin, other) = (admin, other)
        try await application.test(.router) { client in
            try await test(Rig(client: client, server: server, accounts: store.accounts, clock: clock, admin: admin, other: other))
        }
    }

    /// First run to a logged-in administrator.
    static func setUpAdministrator(_ browser: inout Browser, _ rig: Rig) async throws {
        let (server, admin) = (rig.server, rig.admin)
        _ = try await browser.get("/setup")
        let code = try XCTUnwrap(rig.server.setupCode.read())
        let done = try await browser.post("/setup", ["code": code, "login": "admin", "display_name": "Quản trị", "password": admin, "password_again": admin])
        XCTAssertEqual(done.location, "/login?done=setup", done.body)
        try await logIn(&browser, "admin", admin)
    }

    /// The administrator adds a văn thư `clerk` with the other test password.
    static func addClerk(_ browser: inout Browser, _ rig: Rig) async throws {
        _ = try await browser.get("/users")
        let added = try await browser.post("/users", ["login": "clerk", "display_name": "Văn thư", "role": "van_thu", "password": rig.other,
                                                      "password_again": rig.other])
        XCTAssertEqual(added.location, "/users?done=added", added.body)
    }

    static func logIn(_ browser: inout Browser, _ login: String, _ password: String) async throws {
        _ = try await browser.get("/login")
        let answer = try await browser.post("/login", ["login": login, "password": password])
        XCTAssertEqual(answer.status, .seeOther, answer.body)
        XCTAssertNotNil(browser.cookies["gw_session"])
    }

    func testFirstRunLeadsToSetupUntilAnAdministratorExists() async throws {
        try await withConsole { rig in
            var browser = Browser(client: rig.client)
            for path in ["/", "/users", "/login"] {
                let answer = try await browser.get(path)
                XCTAssertEqual(answer.status, .seeOther, path)
                XCTAssertEqual(answer.location, "/setup", path)
            }
            do { let got = try await browser.get("/ca").status; XCTAssertEqual(got, .ok, "the CA's page is open before setup") }
            let form = try await browser.get("/setup")
            XCTAssertTrue(form.body.contains("Mã cài đặt"), form.body)
            let wrong = try await browser.post("/setup", ["code": "0000-0000-0000", "login": "admin", "display_name": "A", "password": rig.admin,
                                                          "password_again": rig.admin])
            XCTAssertEqual(wrong.status, .forbidden)
            XCTAssertTrue(wrong.body.contains("Mã cài đặt không đúng"))
            try await Self.setUpAdministrator(&browser, rig)
            XCTAssertNil(rig.server.setupCode.read(), "the code is used up")
            do { let got = try await browser.get("/setup").location; XCTAssertEqual(got, "/login") }
            do { let got = try await browser.get("/").status; XCTAssertEqual(got, .ok) }
        }
    }

    func testASessionEndsWhenIdleAndAfterTwelveHours() async throws {
        try await withConsole { rig in
            let clock = rig.clock
            var browser = Browser(client: rig.client)
            try await Self.setUpAdministrator(&browser, rig)
            clock.advance(29 * 60)
            do { let got = try await browser.get("/").status; XCTAssertEqual(got, .ok) }
            clock.advance(29 * 60)
            do { let got = try await browser.get("/").status; XCTAssertEqual(got, .ok, "the last request kept it alive") }
            clock.advance(30 * 60)
            do { let got = try await browser.get("/").location; XCTAssertEqual(got, "/login", "idle for 30 minutes") }

            try await Self.logIn(&browser, "admin", rig.admin)
            for _ in 0..<24 {
                clock.advance(29 * 60)
                do { let got = try await browser.get("/").status; XCTAssertEqual(got, .ok) }
            }
            clock.advance(29 * 60)  // 12 h 5 min after the login
            do { let got = try await browser.get("/").location; XCTAssertEqual(got, "/login", "twelve hours after the login") }
        }
    }

    func testFormsWithoutTheSessionsCSRFTokenAreRefused() async throws {
        try await withConsole { rig in
            var browser = Browser(client: rig.client)
            try await Self.setUpAdministrator(&browser, rig)
            _ = try await browser.get("/users")
            let user = ["login": "clerk", "display_name": "<script>alert(1)</script>", "role": "van_thu", "password": rig.other, "password_again": rig.other]
            do { let got = try await browser.post("/users", user, csrf: "").status; XCTAssertEqual(got, .forbidden) }
            do { let got = try await browser.post("/users", user, csrf: Secrets.randomToken()).status; XCTAssertEqual(got, .forbidden) }
            XCTAssertNil(try rig.accounts.user("clerk"), "nothing changed")
            do { let got = try await browser.post("/users", user).location; XCTAssertEqual(got, "/users?done=added") }
            let list = try await browser.get("/users")
            XCTAssertTrue(list.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            XCTAssertFalse(list.body.contains("<script>"))
            // The login form's token is tied to its own cookie.
            var stranger = Browser(client: rig.client)
            _ = try await stranger.get("/login")
            stranger.cookies["gw_form"] = Secrets.randomToken()
            do { let got = try await stranger.post("/login", ["login": "admin", "password": rig.admin]).status; XCTAssertEqual(got, .forbidden) }
            // An empty token in both places is no token.
            stranger.cookies["gw_form"] = ""
            do { let got = try await stranger.post("/login", ["login": "admin", "password": rig.admin], csrf: "").status; XCTAssertEqual(got, .forbidden) }
            // A form over 64 KiB is refused before it is read whole.
            do { let got = try await browser.post("/users", ["display_name": String(repeating: "x", count: 70_000)]).status; XCTAssertEqual(got, .contentTooLarge) }
            let audit = try rig.accounts.auditEntries().map(\.action)
            XCTAssertEqual(audit.filter { $0 == "csrf_refused" }.count, 4, "two with the session, two at the login form: \(audit)")
            XCTAssertTrue(audit.contains("user_add"))
        }
    }

    func testPagesRefuseWithoutASessionOrTheRole() async throws {
        try await withConsole { rig in
            var browser = Browser(client: rig.client)
            try await Self.setUpAdministrator(&browser, rig)
            try await Self.addClerk(&browser, rig)
            var nobody = Browser(client: rig.client)
            do { let got = try await nobody.get("/").location; XCTAssertEqual(got, "/login") }
            do { let got = try await nobody.get("/users").location; XCTAssertEqual(got, "/login") }
            do { let got = try await nobody.post("/users", ["login": "x"]).status; XCTAssertEqual(got, .forbidden) }
            var clerk = Browser(client: rig.client)
            try await Self.logIn(&clerk, "clerk", rig.other)
            do { let got = try await clerk.get("/").status; XCTAssertEqual(got, .ok) }
            do { let got = try await clerk.get("/users").status; XCTAssertEqual(got, .forbidden, "only a quản trị") }
            // Disabled: the session ends at once.
            _ = try await browser.get("/users")
            do { let got = try await browser.post("/users/disable", ["login": "clerk"]).location; XCTAssertEqual(got, "/users?done=changed") }
            do { let got = try await clerk.get("/").location; XCTAssertEqual(got, "/login") }
            XCTAssertTrue(try XCTUnwrap(rig.accounts.user("clerk")).disabled)
            // Logging out ends the session on the server, not only the cookie.
            let cookie = try XCTUnwrap(browser.cookies["gw_session"])
            _ = try await browser.get("/")
            do { let got = try await browser.post("/logout", [:]).location; XCTAssertEqual(got, "/login") }
            browser.cookies["gw_session"] = cookie
            do { let got = try await browser.get("/").location; XCTAssertEqual(got, "/login") }
        }
    }

    func testLockOutPerAddressAndGrowingDelayPerAccount() async throws {
        try await withConsole { rig in
            let clock = rig.clock
            var browser = Browser(client: rig.client)
            try await Self.setUpAdministrator(&browser, rig)
            // The account: five free failures, then a delay in which even the right password waits.
            var guesser = Browser(client: rig.client)
            for _ in 0..<5 {
                _ = try await guesser.get("/login")
                do { let got = try await guesser.post("/login", ["login": "admin", "password": rig.other]).status; XCTAssertEqual(got, .unauthorized) }
            }
            _ = try await guesser.get("/login")
            let delayed = try await guesser.post("/login", ["login": "admin", "password": rig.admin])
            XCTAssertEqual(delayed.status, .tooManyRequests)
            XCTAssertTrue(delayed.body.contains("chờ một lát"), delayed.body)
            clock.advance(2)
            try await Self.logIn(&guesser, "admin", rig.admin)
            XCTAssertEqual(try rig.accounts.user("admin")?.failedLogins, 0, "a success clears the delay")

            // The address: ten failures (any login) in a quarter hour, then refused 15 minutes.
            clock.advance(15 * 60)  // the five above no longer count
            for index in 0..<10 {
                _ = try await guesser.get("/login")
                do { let got = try await guesser.post("/login", ["login": "nobody\(index)", "password": "x"]).status; XCTAssertEqual(got, .unauthorized) }
            }
            _ = try await guesser.get("/login")
            let refused = try await guesser.post("/login", ["login": "admin", "password": rig.admin])
            XCTAssertEqual(refused.status, .tooManyRequests)
            XCTAssertTrue(refused.body.contains("15 phút"), refused.body)
            clock.advance(15 * 60)
            try await Self.logIn(&guesser, "admin", rig.admin)
            let actions = try rig.accounts.auditEntries(limit: 1000).map(\.action)
            XCTAssertEqual(actions.filter { $0 == "login_failed" }.count, 15)
            XCTAssertEqual(actions.filter { $0 == "login_refused" }.count, 2)
            XCTAssertEqual(actions.filter { $0 == "login" }.count, 3)
        }
    }

    func testChangingOnesPasswordAndAnAdministratorClearingFailures() async throws {
        try await withConsole { rig in
            var browser = Browser(client: rig.client)
            try await Self.setUpAdministrator(&browser, rig)
            try await Self.addClerk(&browser, rig)
            var clerk = Browser(client: rig.client)
            try await Self.logIn(&clerk, "clerk", rig.other)
            let form = try await clerk.get("/password")
            XCTAssertTrue(form.body.contains("Mật khẩu hiện tại"))
            let wrong = try await clerk.post("/password", ["current": rig.admin, "password": rig.admin, "password_again": rig.admin])
            XCTAssertEqual(wrong.status, .unauthorized)
            XCTAssertEqual(try rig.accounts.user("clerk")?.failedLogins, 1, "counted like a failed login")
            let oldSession = try XCTUnwrap(clerk.cookies["gw_session"])
            let changed = try await clerk.post("/password", ["current": rig.other, "password": rig.admin, "password_again": rig.admin])
            XCTAssertEqual(changed.location, "/login?done=password")
            clerk.cookies["gw_session"] = oldSession
            do { let got = try await clerk.get("/").location; XCTAssertEqual(got, "/login", "every session of the account ended") }
            try await Self.logIn(&clerk, "clerk", rig.admin)

            // Failures enough for a delay; the administrator clears them.
            var guesser = Browser(client: rig.client)
            for _ in 0..<6 {
                _ = try await guesser.get("/login")
                _ = try await guesser.post("/login", ["login": "clerk", "password": rig.other])
            }
            XCTAssertEqual(try rig.accounts.user("clerk")?.failedLogins, 5, "the sixth was refused during the delay, not counted")
            let page = try await browser.get("/users")
            XCTAssertTrue(page.body.contains("action=\"/users/unlock\""), page.body)
            do { let got = try await browser.post("/users/unlock", ["login": "clerk"]).location; XCTAssertEqual(got, "/users?done=changed") }
            XCTAssertEqual(try rig.accounts.user("clerk")?.failedLogins, 0)
            try await Self.logIn(&guesser, "clerk", rig.admin)
            let actions = try rig.accounts.auditEntries().map(\.action)
            for action in ["password_failed", "password", "unlock"] { XCTAssertTrue(actions.contains(action), "\(action) in \(actions)") }
        }
    }

    func testTheOverviewShowsTheHubAndTheTokens() async throws {
        // The relay's status as `GET /v1/status` gives it (its JSON: the console reads the same value).
        let json = """
            {"link": "down", "hub": "https://hub.tinh.gov.vn:8443", "link_since": "2027-01-05T08:30:00+07:00",
             "last_success_at": "2027-01-05T08:00:00+07:00", "last_error": "<timeout>", "last_error_at": "2027-01-05T08:31:00+07:00",
             "lanes": [{"lane": "0", "name": "thường", "queued": 4, "sending": 1}], "warning": "2 văn bản chờ quá 4 giờ",
             "max_queue_age_seconds": 14400, "inbox_received": 0}
            """
        let status = try GatewayJSON.decoder.decode(RelayStatus.self, from: Data(json.utf8))
        let expiry = Date(timeIntervalSince1970: 1_830_000_000)  // 28/12/2027 in Vietnam
        let token = TokenSummary(reader: "Virtual PCD 00 00", model: "SafeNet eToken 5110", usbID: nil, atr: "3B", piv: true,
                                 certificates: [.init(slot: "9c", subject: "CN=Nguyễn <b>Văn</b> A,O=UBND xã", notAfter: expiry)],
                                 pinTriesLeft: 3, pinBlocked: false, problem: nil, insertedAt: Date())
        let tokens = FixedTokens(status: TokenServiceStatus(pcscd: "ok", readers: ["Virtual PCD 00 00"], tokens: [token]))
        try await withConsole(tokens: tokens, hub: { status }) { rig in
            var browser = Browser(client: rig.client)
            try await Self.setUpAdministrator(&browser, rig)
            let page = try await browser.get("/").body
            XCTAssertTrue(page.contains("https://hub.tinh.gov.vn:8443: MẤT KẾT NỐI — từ 08:30 05/01/2027"), page)
            XCTAssertTrue(page.contains("Gửi thành công gần nhất: 08:00 05/01/2027"), page)
            XCTAssertTrue(page.contains("&lt;timeout&gt;"), page)
            XCTAssertTrue(page.contains("<td>thường</td><td>4</td><td>1</td>"), page)
            XCTAssertTrue(page.contains("2 văn bản chờ quá 4 giờ"), page)
            XCTAssertTrue(page.contains("SafeNet eToken 5110"), page)
            XCTAssertTrue(page.contains("Nguyễn &lt;b&gt;Văn&lt;/b&gt; A — hết hạn 28/12/2027"), page)
            XCTAssertTrue(page.contains("Số lần nhập PIN còn lại: 3"), page)
            XCTAssertTrue(page.contains("<td>received</td><td>0</td>"), page)
        }
        try await withConsole { rig in  // the same store, without a relay
            var browser = Browser(client: rig.client)
            try await Self.logIn(&browser, "admin", rig.admin)
            do { let got = try await browser.get("/").body; XCTAssertTrue(got.contains("Chưa cấu hình [upstream]"), got) }
        }
    }

    /// `<script>` in every field of every form, each refused for some reason so that the form
    /// comes back with what was typed: never a raw `<script` on any page.
    func testScriptInEveryFieldIsNeverEchoedUnescaped() async throws {
        let script = "\"><script>alert(1)</script>"
        try await withConsole { rig in
            var pages: [String] = []
            var browser = Browser(client: rig.client)
            _ = try await browser.get("/setup")
            let setupFields = ["code", "login", "display_name", "password", "password_again"]
            pages.append(try await browser.post("/setup", Dictionary(uniqueKeysWithValues: setupFields.map { ($0, script) })).body)
            let code = try XCTUnwrap(rig.server.setupCode.read())
            pages.append(try await browser.post("/setup", ["code": code, "login": script, "display_name": script, "password": "x", "password_again": "y"]).body)
            try await Self.setUpAdministrator(&browser, rig)
            _ = try await browser.get("/users")
            for role in ["van_thu", "lanh_dao", script] {
                pages.append(try await browser.post("/users", ["login": script, "display_name": script, "role": role, "identity": script,
                                                               "password": script, "password_again": script]).body)
            }
            pages.append(try await browser.post("/users", ["login": "ok", "display_name": script, "role": "lanh_dao", "identity": script,
                                                           "password": rig.other, "password_again": rig.other]).body)
            pages.append(try await browser.post("/users/disable", ["login": script]).body)
            _ = try await browser.get("/password")
            pages.append(try await browser.post("/password", ["current": script, "password": script, "password_again": script]).body)
            pages.append(try await browser.get("/users?done=\(script.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)").body)
            var stranger = Browser(client: rig.client)
            _ = try await stranger.get("/login")
            pages.append(try await stranger.post("/login", ["login": script, "password": script]).body)
            pages.append(try await stranger.get("/login?lang=\(script.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)").body)
            XCTAssertEqual(pages.count, 11)
            for page in pages {
                XCTAssertFalse(page.lowercased().contains("<script"), page)
            }
            XCTAssertTrue(pages.contains { $0.contains("&lt;script&gt;") }, "the typed text came back, escaped")
            XCTAssertEqual(try rig.accounts.users().map(\.login), ["admin"], "nothing was added")
        }
    }

    func testTheLanguageIsVietnameseUnlessEnglishIsChosen() async throws {
        try await withConsole { rig in
            var browser = Browser(client: rig.client)
            do { let got = try await browser.get("/setup").body.contains("Cài đặt lần đầu"); XCTAssertTrue(got) }
            do { let got = try await browser.get("/setup?lang=en").body.contains("First-run setup"); XCTAssertTrue(got) }
            XCTAssertEqual(browser.cookies["gw_lang"], "en")
            do { let got = try await browser.get("/setup").body.contains("First-run setup"); XCTAssertTrue(got, "kept in the cookie") }
            do { let got = try await browser.get("/setup?lang=vi").body.contains("Cài đặt lần đầu"); XCTAssertTrue(got) }
        }
    }
}

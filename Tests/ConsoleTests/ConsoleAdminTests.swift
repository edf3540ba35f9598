// Quản trị / Administration in memory over a real store and signing stage: each page and form is
// the quản trị's alone and needs its CSRF token; a password reset ends the person's sessions and
// makes them choose their own; an uploaded image is checked and is what the next signature draws;
// the agency directory is searched by name or code; the overview's warnings are on the page.
@testable import Console
import DocumentModel
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SigningPolicy
import TestSupport
import XCTest

final class ConsoleAdminTests: XCTestCase {
    typealias Browser = ConsoleRouterTests.Browser
    static let an = "CCCD:001085012345"
    /// A 2×2 RGBA PNG at 300 dpi (pHYs), so that it also serves as a seal of known size.
    static let png = Array(Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAACXBIWXMAAC4jAAAuIwF4pT92AAAAEUlEQVR4nGMQUDD4D8IMMAYAK7QFfV2yb0IAAAAASUVORK5CYII=")!)

    var directory = ""
    let clock = ConsoleRouterTests.TestClock()

    override func setUp() { directory = NSTemporaryDirectory() + "console-admin-" + UUID().uuidString }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    struct Rig: Sendable {
        let base: ConsoleRouterTests.Rig
        let store: DocumentStore
        let stage: SigningStage
        var client: any TestClientProtocol { base.client }
    }

    func withConsole(_ test: @escaping @Sendable (Rig) async throws -> Void) async throws {
        let layout = StoreLayout(dataDirectory: directory)
        let store = try DocumentStore(layout: layout, limits: .init(), logger: Logger(label: "test"), ioPool: .singleton)
        _ = try SetupCode(layout: layout).ensure()
        let ca = BoxCA(layout: layout)
        try ca.prepare(names: ServerNames(dnsNames: ["localhost"], ipAddresses: [[127, 0, 0, 1]]), now: clock.now)
        var settings = SigningSettings()
        settings.leaders = [ConfiguredLeader(name: "Nguyễn Văn An", title: "CHỦ TỊCH", identity: SubjectIdentifier(Self.an)!)]
        settings.imageDirectory = AppearanceImages.directory(dataDirectory: directory)
        let stage = SigningStage(store: store, tokens: ConsoleSigningTests.CountingTokens([:]), settings: settings,
                                 environment: SigningEnvironment(clockSynchronised: { true }), logger: Logger(label: "test"))
        let clock = clock
        // A token whose certificate ends in 5 days: the overview warns about it.
        let token = TokenSummary(reader: "r", model: "eToken", usbID: nil, atr: "", piv: true,
                                 certificates: [.init(slot: "9c", subject: "CN=Nguyễn Văn An", notAfter: clock.now + 5 * 86400 + 60)],
                                 pinTriesLeft: 3, pinBlocked: false, problem: nil, insertedAt: clock.now)
        let server = ConsoleServer(accounts: store.accounts, rules: AccountRules(leaderIdentities: [Self.an]), setupCode: SetupCode(layout: layout), ca: ca,
                                   counts: { try store.countsByState() },
                                   tokens: ConsoleRouterTests.FixedTokens(status: TokenServiceStatus(pcscd: "ok", readers: ["r"], tokens: [token])),
                                   signing: SigningDesk(store: store, stage: stage),
                                   documents: ConsoleDocuments(store: store, intake: DocumentIntake(store: store, parser: MetadataParser(directory: store),
                                                                                                    signedClaims: .unconfigured), relay: nil, inboxFolder: nil),
                                   watch: OverviewWatch(store: store, limits: WarningLimits(), boxCertificate: nil),
                                   now: { clock.now }, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await Application(router: server.router()).test(.router) { client in
            let base = ConsoleRouterTests.Rig(client: client, server: server, accounts: store.accounts, clock: clock,
                                              admin: TestSecrets.value("password.console-admin"), other: TestSecrets.value("password.console-other"))
            try await test(Rig(base: base, store: store, stage: stage))
        }
    }

    /// The administrator's browser, with a văn thư `clerk` added, and the clerk's.
    static func people(_ rig: Rig) async throws -> (admin: Browser, clerk: Browser) {
        var admin = Browser(client: rig.client)
        try await ConsoleRouterTests.setUpAdministrator(&admin, rig.base)
        try await ConsoleRouterTests.addClerk(&admin, rig.base)
        var clerk = Browser(client: rig.client)
        try await ConsoleRouterTests.logIn(&clerk, "clerk", rig.base.other)
        return (admin, clerk)
    }

    func testAdministrationIsTheAdministratorsAndNeedsItsToken() async throws {
        try await withConsole { rig in
            var (admin, clerk) = try await Self.people(rig)
            for path in ["/admin", "/admin/images", "/admin/directory", "/users/password?login=clerk", "/admin/images/file?which=seal"] {
                let got = try await clerk.get(path).status
                XCTAssertEqual(got, .forbidden, path)
            }
            do { let got = try await clerk.post("/users/password", ["login": "admin", "password": "x", "password_again": "x"]).status; XCTAssertEqual(got, .forbidden) }
            do {
                let got = try await ConsoleDocumentPagesTests.upload(clerk, "/admin/images", [.field("which", "seal"), .file("image", "dau.png", Self.png)]).status
                XCTAssertEqual(got, .forbidden)
            }
            XCTAssertNil(rig.stage.images.seal, "a văn thư changed no image")
            var nobody = Browser(client: rig.client)
            do { let got = try await nobody.get("/admin").location; XCTAssertEqual(got, "/login") }
            // The administrator's own forms, without the session's token.
            _ = try await admin.get("/admin")
            do {
                let got = try await admin.post("/users/password", ["login": "clerk", "password": rig.base.admin, "password_again": rig.base.admin], csrf: "x").status
                XCTAssertEqual(got, .forbidden)
            }
            do {
                let got = try await ConsoleDocumentPagesTests.upload(admin, "/admin/images", [.field("which", "seal"), .file("image", "dau.png", Self.png)],
                                                                     csrf: "x").status
                XCTAssertEqual(got, .forbidden)
            }
            XCTAssertNil(rig.stage.images.seal)
            let page = try await admin.get("/admin").body
            for link in ["/users", "/api-keys", "/admin/images", "/admin/directory"] { XCTAssertTrue(page.contains("href=\"\(link)\""), link) }
            let actions = try rig.base.accounts.auditEntries().map(\.action)
            XCTAssertEqual(actions.filter { $0 == "csrf_refused" }.count, 2, "\(actions)")
        }
    }

    func testAPasswordResetEndsTheSessionsAndTheOwnerChoosesANewOne() async throws {
        let directory = directory
        try await withConsole { rig in
            var (admin, clerk) = try await Self.people(rig)
            let (temporary, own) = (rig.base.admin, rig.base.other)
            let form = try await admin.get("/users")
            XCTAssertTrue(form.body.contains("href=\"/users/password?login=clerk\""), form.body)
            _ = try await admin.get("/users/password?login=clerk")
            do { let got = try await admin.post("/users/password", ["login": "clerk", "password": "short", "password_again": "short"]).status; XCTAssertEqual(got, .badRequest) }
            let done = try await admin.post("/users/password", ["login": "clerk", "password": temporary, "password_again": temporary])
            XCTAssertEqual(done.location, "/users?done=changed", done.body)
            do { let got = try await clerk.get("/").location; XCTAssertEqual(got, "/login", "the clerk's session ended") }
            let entry = try XCTUnwrap(rig.base.accounts.auditEntries().first { $0.action == "password_reset" })
            XCTAssertEqual([entry.actor, entry.subject], ["admin", "clerk"])

            // The next login leads to the password page, and every other page too, until the clerk chose.
            _ = try await clerk.get("/login")
            let login = try await clerk.post("/login", ["login": "clerk", "password": temporary])
            XCTAssertEqual(login.location, "/password?reset=1")
            do { let got = try await clerk.get("/outbox").location; XCTAssertEqual(got, "/password?reset=1") }
            do { let got = try await clerk.get("/password?reset=1").body; XCTAssertTrue(got.contains("Quản trị đã đặt lại mật khẩu của bạn"), got) }
            // A restart of the daemon keeps the session (in the store) and the obligation (told by the audit).
            let layout = StoreLayout(dataDirectory: directory)
            let clock = rig.base.clock
            let restarted = ConsoleServer(accounts: rig.store.accounts, rules: AccountRules(leaderIdentities: [Self.an]), setupCode: SetupCode(layout: layout),
                                          ca: BoxCA(layout: layout), counts: { [:] }, tokens: nil, now: { clock.now },
                                          logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            let cookies = clerk.cookies
            try await Application(router: restarted.router()).test(.router) { client in
                var again = Browser(client: client)
                again.cookies = cookies
                let got = try await again.get("/outbox").location
                XCTAssertEqual(got, "/password?reset=1", "after a restart the reset password must still be replaced")
            }
            let changed = try await clerk.post("/password", ["current": temporary, "password": own, "password_again": own])
            XCTAssertEqual(changed.location, "/login?done=password")
            _ = try await clerk.get("/login")
            do { let got = try await clerk.post("/login", ["login": "clerk", "password": own]).location; XCTAssertEqual(got, "/") }
            do { let got = try await clerk.get("/").status; XCTAssertEqual(got, .ok) }
        }
    }

    func testAnUploadedImageIsCheckedKeptAndDrawnByTheNextSignature() async throws {
        let kept = AppearanceImages.directory(dataDirectory: directory)
        try await withConsole { rig in
            var (admin, _) = try await Self.people(rig)
            let page = try await admin.get("/admin/images")
            XCTAssertTrue(page.body.contains("CHỦ TỊCH Nguyễn Văn An (\(Self.an))"), page.body)
            XCTAssertTrue(page.body.contains("enctype=\"multipart/form-data\""), page.body)
            // Not a PNG, and too large: refused with the reason, nothing changed.
            let bad = try await ConsoleDocumentPagesTests.upload(admin, "/admin/images", [.field("which", "leader"), .field("identity", Self.an),
                                                                                        .file("image", "<script>.png", Array("<script>alert(1)</script>".utf8))])
            XCTAssertEqual(bad.status, .badRequest)
            XCTAssertTrue(bad.body.contains("PNG"), bad.body)
            XCTAssertFalse(bad.body.contains("<script>"), bad.body)
            let huge = try await ConsoleDocumentPagesTests.upload(admin, "/admin/images", [.field("which", "seal"),
                                                                                         .file("image", "big.png", Self.png + [UInt8](repeating: 0, count: 600 * 1024))])
            XCTAssertEqual(huge.status, .badRequest)
            XCTAssertNil(rig.stage.images.signature(for: Self.an))
            XCTAssertNil(rig.stage.images.seal)

            for fields: [ConsoleDocumentPagesTests.Part] in [[.field("which", "leader"), .field("identity", Self.an)], [.field("which", "seal")]] {
                let done = try await ConsoleDocumentPagesTests.upload(admin, "/admin/images", fields + [.file("image", "a.png", Self.png)])
                XCTAssertEqual(done.status, .ok)
                XCTAssertTrue(done.body.contains("chữ ký tiếp theo dùng ảnh này"), done.body)
            }
            // The stage's own images (what signPDF and the preview read) are the new ones, kept on disk for the next start.
            XCTAssertEqual(rig.stage.images.signature(for: Self.an)?.bytes, Self.png)
            XCTAssertEqual(rig.stage.images.seal?.bytes, Self.png)
            XCTAssertEqual(rig.stage.images.seal.map { ($0.width * 25.4 / 72 * 100).rounded() / 100 }, 0.17, "2 px at 300 dpi")
            XCTAssertEqual(FileManager.default.contents(atPath: kept + "/leader-CCCD-001085012345.png").map(Array.init), Self.png)
            XCTAssertNotNil(AppearanceImages.uploaded(AppearanceImages.sealFile, in: kept))
            let shown = try await admin.get("/admin/images/file?which=leader&identity=\(Self.an)")
            XCTAssertEqual(shown.status, .ok)
            XCTAssertTrue(shown.body.contains("PNG") && shown.body.contains("IHDR"), "the PNG itself")
            let actions = try rig.base.accounts.auditEntries().map(\.action)
            XCTAssertEqual(actions.filter { $0 == "image" }.count, 2, "\(actions)")
            XCTAssertEqual(actions.filter { $0 == "image_refused" }.count, 2, "\(actions)")
        }
    }

    func testTheAgencyDirectoryIsSearchedByNameOrCode() async throws {
        try await withConsole { rig in
            var (admin, _) = try await Self.people(rig)
            try rig.store.replaceDirectory([AgencyDirectory.Entry(code: AgencyCode("000.00.20.H13")!, name: "Ủy ban nhân dân xã Hòa Tiến"),
                                            AgencyDirectory.Entry(code: AgencyCode("000.00.00.H01")!, name: "Văn phòng <b>UBND</b> tỉnh")],
                                           fetchedAt: rig.base.clock.now)
            let all = try await admin.get("/admin/directory").body
            XCTAssertTrue(all.contains("2 cơ quan"), all)
            XCTAssertTrue(all.contains("Văn phòng &lt;b&gt;UBND&lt;/b&gt; tỉnh"), all)
            let byName = try await admin.get("/admin/directory?q=uy+ban+hoa+tien").body
            XCTAssertTrue(byName.contains("000.00.20.H13") && !byName.contains("000.00.00.H01"), byName)
            let byCode = try await admin.get("/admin/directory?q=H01").body
            XCTAssertTrue(byCode.contains("000.00.00.H01") && !byCode.contains("000.00.20.H13"), byCode)
            let hostile = try await admin.get("/admin/directory?q=%22%3E%3Cscript%3E").body
            XCTAssertFalse(hostile.contains("<script>"), hostile)
        }
    }

    func testTheOverviewShowsItsWarnings() async throws {
        try await withConsole { rig in
            var (admin, _) = try await Self.people(rig)
            let page = try await admin.get("/").body
            XCTAssertTrue(page.contains("<h2>Cảnh báo</h2>"), page)
            XCTAssertTrue(page.contains("data-warning=\"certificateExpiring\""), page)
            XCTAssertTrue(page.contains("Chứng thư số của Nguyễn Văn An (token eToken) hết hạn ngày"), page)
        }
    }

    /// Every login and every form of the console, each answered with a refusal (the cheapest way
    /// through every handler) or done, leaves at least one audit entry naming who and from where.
    func testEveryLoginAndEveryFormLeavesAnAuditEntry() async throws {
        try await withConsole { rig in
            let (admin, clerk) = try await Self.people(rig)
            let accounts = rig.base.accounts
            func count() throws -> Int { try accounts.auditEntries(limit: 100_000).count }
            var adding = admin
            _ = try await adding.post("/users", ["login": "an", "display_name": "An", "role": "lanh_dao", "identity": Self.an,
                                                "password": rig.base.other, "password_again": rig.base.other])
            var leader = Browser(client: rig.client)
            try await ConsoleRouterTests.logIn(&leader, "an", rig.base.other)
            typealias Part = ConsoleDocumentPagesTests.Part
            let forms: [(who: String, path: String, fields: [String: String]?, parts: [Part]?)] = [
                ("admin", "/users", [:], nil), ("admin", "/users/disable", ["login": "admin"], nil), ("admin", "/users/enable", ["login": "nobody"], nil),
                ("admin", "/users/unlock", ["login": "nobody"], nil), ("admin", "/users/password", ["login": "nobody"], nil),
                ("admin", "/api-keys", ["name": ""], nil), ("admin", "/api-keys/revoke", ["name": "nobody"], nil),
                ("admin", "/admin/images", nil, [.field("which", "seal"), .file("image", "x.png", [1, 2, 3])]),
                ("admin", "/password", ["password": "x"], nil), ("clerk", "/users", [:], nil),
                ("clerk", "/signing", [:], nil), ("clerk", "/documents/999/withdraw", [:], nil),
                ("clerk", "/documents/999/replace", nil, [.file("file", "a.pdf", ConsoleDocumentPagesTests.pdf)]),
                ("clerk", "/inbox/999/status", ["code": "03"], nil), ("clerk", "/outbox/new", nil, [.field("subject", "")]),
                ("an", "/signing", ["doc.1": "1"], nil), ("an", "/signing/return", [:], nil), ("an", "/documents/999/withdraw", [:], nil),
            ]
            for form in forms {
                let before = try count()
                let browser = form.who == "admin" ? admin : form.who == "clerk" ? clerk : leader
                var posting = browser
                if let fields = form.fields { _ = try await posting.post(form.path, fields) } else if let parts = form.parts {
                    _ = try await ConsoleDocumentPagesTests.upload(browser, form.path, parts)
                }
                let after = try accounts.auditEntries(limit: 100_000)
                XCTAssertGreaterThan(after.count, before, "\(form.who) POST \(form.path) left no audit entry")
                XCTAssertEqual(after.first?.actor, form.who, form.path)
            }
            // Logins: refused without the form's token, failed, done; and the logout.
            var someone = Browser(client: rig.client)
            for (fields, csrf, action) in [(["login": "clerk", "password": rig.base.other], "x", "csrf_refused"),
                                           (["login": "clerk", "password": "wrong"], nil, "login_failed"),
                                           (["login": "clerk", "password": rig.base.other], nil, "login")] {
                _ = try await someone.get("/login")
                _ = try await someone.post("/login", fields, csrf: csrf)
                XCTAssertEqual(try accounts.auditEntries(limit: 1).first?.action, action)
            }
            _ = try await someone.get("/")
            _ = try await someone.post("/logout", [:])
            XCTAssertEqual(try accounts.auditEntries(limit: 1).first?.action, "logout")
        }
    }
}

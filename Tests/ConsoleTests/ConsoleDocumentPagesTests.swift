// The document pages in memory (issue 15): outbox with search and paging, the upload form through
// the local API's checks, the document page, withdraw and replace, the inbox; roles, CSRF and
// hostile input (acceptance 3) — each refusal changes nothing and echoes nothing raw.
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
import XCTest

final class ConsoleDocumentPagesTests: XCTestCase {
    typealias Browser = ConsoleRouterTests.Browser
    var directory = ""
    let clock = ConsoleRouterTests.TestClock()

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("console-documents-\(UUID().uuidString)").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    struct Rig: Sendable {
        let base: ConsoleRouterTests.Rig
        let store: DocumentStore
        var client: any TestClientProtocol { base.client }
    }

    /// The console over a real store with the intake the daemon builds; documents at most 64 KiB,
    /// so that an oversized upload is cheap to make.
    func withConsole(inboxFolder: String? = nil, recordStatus: ConsoleDocuments.StatusRecorder? = nil, _ test: @escaping @Sendable (Rig) async throws -> Void) async throws {
        let layout = StoreLayout(dataDirectory: directory)
        let store = try DocumentStore(layout: layout, limits: .init(maximumDocumentSize: 64 * 1024, diskReserve: 0), logger: Logger(label: "test"),
                                      ioPool: .singleton)
        let setupCode = SetupCode(layout: layout)
        _ = try setupCode.ensure()
        let ca = BoxCA(layout: layout)
        try ca.prepare(names: ServerNames(dnsNames: ["localhost"], ipAddresses: [[127, 0, 0, 1]]), now: clock.now)
        let clock = clock
        let intake = DocumentIntake(store: store, parser: MetadataParser(directory: store), signedClaims: .unconfigured)
        let server = ConsoleServer(accounts: store.accounts, rules: AccountRules(leaderIdentities: []), setupCode: setupCode, ca: ca,
                                   counts: { try store.countsByState() }, hub: nil, tokens: nil,
                                   documents: ConsoleDocuments(store: store, intake: intake, recordStatus: recordStatus, inboxFolder: inboxFolder),
                                   now: { clock.now }, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let application = Application(router: server.router())
        try await application.test(.router) { client in
            let base = ConsoleRouterTests.Rig(client: client, server: server, accounts: store.accounts, clock: clock,
                                              admin: TestSecrets.value("password.console-admin"), other: TestSecrets.value("password.console-other"))
            try await test(Rig(base: base, store: store))
        }
    }

    /// An administrator set up, a văn thư `clerk` added; the browser returned is the clerk's.
    static func clerk(_ rig: Rig) async throws -> Browser {
        var admin = Browser(client: rig.client)
        try await ConsoleRouterTests.setUpAdministrator(&admin, rig.base)
        try await ConsoleRouterTests.addClerk(&admin, rig.base)
        var clerk = Browser(client: rig.client)
        try await ConsoleRouterTests.logIn(&clerk, "clerk", rig.base.other)
        return clerk
    }

    /// One part of a form: a text field, or a file with its name.
    enum Part {
        case field(String, String)
        case file(String, String, [UInt8])
    }

    static func multipart(_ parts: [Part], boundary: String) -> [UInt8] {
        var body: [UInt8] = []
        for part in parts {
            body += Array("--\(boundary)\r\n".utf8)
            switch part {
            case .field(let name, let value):
                body += Array("Content-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
            case .file(let name, let fileName, let bytes):
                body += Array("Content-Disposition: form-data; name=\"\(name)\"; filename=\"\(fileName.replacingOccurrences(of: "\"", with: "%22"))\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
                body += bytes + Array("\r\n".utf8)
            }
        }
        return body + Array("--\(boundary)--\r\n".utf8)
    }

    /// A multipart form posted as a browser does, the CSRF token in the action URL unless `csrf` says otherwise.
    static func upload(_ browser: Browser, _ path: String, _ parts: [Part], csrf: String? = nil) async throws
        -> (status: HTTPResponse.Status, location: String?, body: String) {
        let boundary = "----WebKitFormBoundary\(UUID().uuidString.prefix(12))"
        var headers: HTTPFields = [.contentType: "multipart/form-data; boundary=\(boundary)"]
        headers[.cookie] = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        let token = csrf ?? browser.csrf
        let response = try await browser.client.execute(uri: path + "?csrf=\(token)", method: .post, headers: headers,
                                                        body: ByteBuffer(bytes: multipart(parts, boundary: boundary)))
        return (response.status, response.headers[.location], String(buffer: response.body))
    }

    static let pdf = Array(SamplePDF.bytes("Tờ trình"))

    static func fields(subject: String = "Báo cáo tháng 12", recipients: String = "000.00.00.H01", extra: [Part] = []) -> [Part] {
        [.field("subject", subject), .field("number", "12"), .field("notation", "BC-UBND"), .field("document_type", "Báo cáo"),
         .field("priority", "0"), .field("recipients", recipients), .field("signatures", "")] + extra
    }

    func testAClerkUploadsADocumentWithAnAttachmentFindsItAndWithdrawsIt() async throws {
        try await withConsole { rig in
            var clerk = try await Self.clerk(rig)
            let form = try await clerk.get("/outbox/new")
            XCTAssertEqual(form.status, .ok)
            XCTAssertTrue(form.body.contains("enctype=\"multipart/form-data\""), form.body)
            XCTAssertTrue(form.body.contains("<datalist id=\"agencies\">"))
            let answer = try await Self.upload(clerk, "/outbox/new", Self.fields(extra: [
                .file("file", "bao-cao.pdf", Self.pdf), .file("attachments", "phu-luc.pdf", Self.pdf), .file("attachments", "so-lieu.xlsx", [1, 2, 3]),
            ]))
            XCTAssertEqual(answer.status, .seeOther, answer.body)
            let location = try XCTUnwrap(answer.location)
            XCTAssertTrue(location.hasPrefix("/documents/"), location)
            let id = try XCTUnwrap(DocumentID(String(location.dropFirst("/documents/".count).prefix { $0 != "?" })))
            let stored = try XCTUnwrap(try rig.store.document(id))
            XCTAssertEqual(stored.metadata.subject, "Báo cáo tháng 12")
            XCTAssertEqual(stored.metadata.attachmentNames, ["phu-luc.pdf", "so-lieu.xlsx"])
            XCTAssertEqual(try rig.store.attachments(id).count, 2)
            XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: rig.store.layout.objectPath(id, version: stored.version)))), Self.pdf)

            let page = try await clerk.get(location)
            XCTAssertEqual(page.status, .ok)
            // Markup of the program's own is markup, not text (a conditional piece typed String would be escaped).
            let outbox = try await clerk.get("/outbox")
            for body in [page.body, outbox.body, form.body] {
                for escapedMarkup in ["HTML(rendered", "&lt;p&gt;", "&lt;table", "&lt;h2", "&lt;ul", "&lt;input", "&lt;a "] {
                    XCTAssertFalse(body.contains(escapedMarkup), "\(escapedMarkup) in:\n\(body)")
                }
            }
            XCTAssertTrue(page.body.contains("<li><a href=\"/documents/\(id)/attachments/1\">phu-luc.pdf</a>"), page.body)
            XCTAssertTrue(outbox.body.contains("<a class=\"button\" href=\"/outbox/new\">"), outbox.body)
            XCTAssertTrue(outbox.body.contains("<table><tr><th>Số/Ký hiệu</th>"), outbox.body)
            for text in ["Báo cáo tháng 12", "phu-luc.pdf", "so-lieu.xlsx", "Lịch sử", "uploaded on the console by clerk", "Rút lại"] {
                XCTAssertTrue(page.body.contains(text), "\(text) missing from the document page")
            }
            let file = try await clerk.get("/documents/\(id)/file")
            XCTAssertEqual(Array(file.body.utf8), Self.pdf)
            let attachment = try await clerk.get("/documents/\(id)/attachments/2")
            XCTAssertEqual(attachment.body, String(decoding: [1, 2, 3] as [UInt8], as: UTF8.self))

            // The outbox: by state, by words, by recipient, by date; a search that finds nothing.
            for query in ["", "?state=\(stored.state == .awaitingLeader ? "awaiting_leader" : "queued")", "?q=th%C3%A1ng+12", "?q=BC-UBND",
                          "?recipient=000.00.00.H01", "?from=2020-01-01"] {
                let list = try await clerk.get("/outbox\(query)")
                XCTAssertTrue(list.body.contains("/documents/\(id)"), "not found by \(query)")
            }
            for query in ["?q=kh%C3%B4ng+c%C3%B3", "?state=delivered", "?recipient=000.00.00.X99", "?to=2020-01-01"] {
                let list = try await clerk.get("/outbox\(query)")
                XCTAssertFalse(list.body.contains("/documents/\(id)"), "found by \(query)")
                XCTAssertTrue(list.body.contains("Không có văn bản nào."))
            }

            // Withdraw: CSRF first, then done, then refused a second time (nothing changed).
            _ = try await clerk.get(location)
            let forged = try await clerk.post("/documents/\(id)/withdraw", [:], csrf: "forged")
            XCTAssertEqual(forged.status, .forbidden)
            XCTAssertEqual(try rig.store.document(id)?.state, stored.state)
            if stored.state.isBeforeSigning {
                let withdrawn = try await clerk.post("/documents/\(id)/withdraw", [:])
                XCTAssertEqual(withdrawn.location, "/documents/\(id)?done=withdraw", withdrawn.body)
                XCTAssertEqual(try rig.store.document(id)?.state, .withdrawn)
                let again = try await clerk.post("/documents/\(id)/withdraw", [:])
                XCTAssertEqual(again.status, .conflict)
            }
            let actions = try rig.base.accounts.auditEntries(limit: 50).map(\.action)
            XCTAssertTrue(actions.contains("upload"), "\(actions)")
            XCTAssertTrue(actions.contains("csrf_refused"), "\(actions)")
        }
    }

    func testRecipientsByNameFromTheHubsDirectory() async throws {
        try await withConsole { rig in
            try rig.store.replaceDirectory([AgencyDirectory.Entry(code: XCTUnwrap(AgencyCode("000.00.20.H13")), name: "UBND huyện <Mỹ Đức>")],
                                           fetchedAt: Date())
            var clerk = try await Self.clerk(rig)
            let form = try await clerk.get("/outbox/new")
            XCTAssertTrue(form.body.contains("<option value=\"000.00.20.H13\">UBND huyện &lt;Mỹ Đức&gt;</option>"), form.body)
            let answer = try await Self.upload(clerk, "/outbox/new", Self.fields(recipients: "UBND huyện <Mỹ Đức>; 000.00.00.H01",
                                                                                 extra: [.file("file", "a.pdf", Self.pdf)]))
            let location = try XCTUnwrap(answer.location, answer.body)
            let id = try XCTUnwrap(DocumentID(String(location.dropFirst("/documents/".count).prefix { $0 != "?" })))
            XCTAssertEqual(try rig.store.document(id)?.metadata.recipients.map(\.description), ["000.00.20.H13", "000.00.00.H01"])
        }
    }

    func testHostileUploadsAreRefusedInVietnameseAndChangeNothing() async throws {
        try await withConsole { rig in
            var clerk = try await Self.clerk(rig)
            _ = try await clerk.get("/outbox/new")
            let script = "<script>alert(1)</script>"
            let cases: [(String, [Part], HTTPResponse.Status, String)] = [
                ("oversized", Self.fields(extra: [.file("file", "lon.pdf", Self.pdf + [UInt8](repeating: 0x20, count: 70 * 1024))]), .contentTooLarge, "Tệp quá lớn"),
                ("oversized attachment", Self.fields(extra: [.file("file", "a.pdf", Self.pdf),
                                                            .file("attachments", "b.bin", [UInt8](repeating: 1, count: 70 * 1024))]), .contentTooLarge, "Tệp quá lớn"),
                ("unknown recipient", Self.fields(recipients: "Ủy ban không có thật", extra: [.file("file", "a.pdf", Self.pdf)]), .badRequest, "Chưa nhận văn bản"),
                ("missing subject", Self.fields(subject: "  ", extra: [.file("file", "a.pdf", Self.pdf)]), .badRequest, "Hãy nhập trích yếu"),
                ("missing file", Self.fields(extra: [.file("file", "", [])]), .badRequest, "Hãy chọn tệp văn bản"),
                ("not a PDF", Self.fields(extra: [.file("file", "a.pdf", Array("%PDF-1.7 but not really".utf8))]), .badRequest, "không phải PDF hợp lệ"),
                ("attachment not a PDF", Self.fields(extra: [.file("file", "a.pdf", Self.pdf), .file("attachments", "pl.pdf", Array("nope".utf8))]),
                 .badRequest, "Tệp đính kèm &quot;pl.pdf&quot;"),
                ("long subject", Self.fields(subject: String(repeating: "Trích yếu rất dài ", count: 40), extra: [.file("file", "a.pdf", Self.pdf)]),
                 .badRequest, "Chưa nhận văn bản"),
                ("script everywhere", [.field("subject", script), .field("number", script), .field("notation", script), .field("document_type", script),
                                       .field("priority", script), .field("recipients", script), .field("signatures", script),
                                       .file("file", "\(script).pdf", Self.pdf), .file("attachments", "\(script).pdf", Self.pdf)], .badRequest, "Chưa nhận văn bản"),
            ]
            for (name, parts, status, message) in cases {
                let answer = try await Self.upload(clerk, "/outbox/new", parts)
                XCTAssertEqual(answer.status, status, "\(name): \(answer.body)")
                XCTAssertTrue(answer.body.contains(message), "\(name): \(answer.body)")
                XCTAssertFalse(answer.body.contains("<script>"), "\(name): echoed raw")
                XCTAssertTrue(try rig.store.countsByState().isEmpty, "\(name): something was stored")
            }
            // The typed subject comes back escaped, so that the clerk need not type it again.
            let again = try await Self.upload(clerk, "/outbox/new", Self.fields(subject: script, recipients: "", extra: [.file("file", "a.pdf", Self.pdf)]))
            XCTAssertTrue(again.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), again.body)
            // A body that is not multipart, or breaks off, is refused too.
            let many = (0...ConsoleServer.uploadFileLimit).map { Part.file("attachments", "pl-\($0).txt", [1]) }
            let tooMany = try await Self.upload(clerk, "/outbox/new", Self.fields(extra: [.file("file", "a.pdf", Self.pdf)] + many))
            XCTAssertEqual(tooMany.status, .badRequest)
            let empty = try await Self.upload(clerk, "/outbox/new", [])
            XCTAssertEqual(empty.status, .badRequest)
            var headers: HTTPFields = [.contentType: "multipart/form-data; boundary=XyZ"]
            headers[.cookie] = clerk.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
            let cut = Array(Self.multipart(Self.fields(extra: [.file("file", "a.pdf", Self.pdf)]), boundary: "XyZ").dropLast(40))
            let truncated = try await clerk.client.execute(uri: "/outbox/new?csrf=\(clerk.csrf)", method: .post, headers: headers, body: ByteBuffer(bytes: cut))
            XCTAssertEqual(truncated.status, .badRequest)
            XCTAssertTrue(String(buffer: truncated.body).contains("Biểu mẫu gửi lên không đúng định dạng"))
            XCTAssertTrue(try rig.store.countsByState().isEmpty)
            // Nothing is left in the store's staging.
            let staging = (try? FileManager.default.contentsOfDirectory(atPath: rig.store.layout.temporaryDirectory)) ?? []
            XCTAssertEqual(staging, [], "staged files left behind")
            XCTAssertTrue(try rig.base.accounts.auditEntries(limit: 50).contains { $0.action == "upload_refused" })
        }
    }

    func testALeaderMayLookButNotActAndFormsNeedTheirToken() async throws {
        try await withConsole { rig in
            var clerk = try await Self.clerk(rig)
            _ = try await clerk.get("/outbox/new")
            let forged = try await Self.upload(clerk, "/outbox/new", Self.fields(extra: [.file("file", "a.pdf", Self.pdf)]), csrf: "forged")
            XCTAssertEqual(forged.status, .forbidden)
            XCTAssertTrue(try rig.store.countsByState().isEmpty)
            let stored = try await Self.upload(clerk, "/outbox/new", Self.fields(extra: [.file("file", "a.pdf", Self.pdf)]))
            let location = try XCTUnwrap(stored.location)
            let id = String(location.dropFirst("/documents/".count).prefix { $0 != "?" })

            try rig.base.accounts.add(ConsoleUser(login: "leader", displayName: "Lãnh đạo", role: .lanhDao, identity: "CCCD:001", passwordHash: Passwords.hash(rig.base.admin)),
                                      audit: ConsoleAuditEntry(at: Date(), actor: "test", action: "user_add", subject: "leader"))
            var leader = Browser(client: rig.client)
            try await ConsoleRouterTests.logIn(&leader, "leader", rig.base.admin)
            for path in ["/outbox", "/inbox", location, "/outbox?state=awaiting_leader"] {
                let page = try await leader.get(path)
                XCTAssertEqual(page.status, .ok, path)
                XCTAssertLessThan(page.body.utf8.count, 200_000, path)
            }
            let outbox = try await leader.get("/outbox")
            XCTAssertFalse(outbox.body.contains("/outbox/new"))
            let uploadPage = try await leader.get("/outbox/new")
            XCTAssertEqual(uploadPage.status, .forbidden)
            _ = try await leader.get(location)
            let upload = try await Self.upload(leader, "/outbox/new", Self.fields(extra: [.file("file", "b.pdf", Self.pdf)]))
            XCTAssertEqual(upload.status, .forbidden)
            let withdraw = try await leader.post("/documents/\(id)/withdraw", [:])
            XCTAssertEqual(withdraw.status, .forbidden)
            XCTAssertEqual(try rig.store.countsByState().values.reduce(0, +), 1)
            XCTAssertNotEqual(try rig.store.document(XCTUnwrap(DocumentID(id)))?.state, .withdrawn)
            XCTAssertTrue(try rig.base.accounts.auditEntries(limit: 50).contains { $0.action == "withdraw_refused" && $0.actor == "leader" })

            // Without a session: to the login page, nothing changed.
            var stranger = Browser(client: rig.client)
            for path in ["/outbox", "/inbox", location, "/documents/\(id)/file"] {
                let answer = try await stranger.get(path)
                XCTAssertEqual(answer.location, "/login", path)
            }
            let refused = try await Self.upload(stranger, "/outbox/new", Self.fields(extra: [.file("file", "c.pdf", Self.pdf)]))
            XCTAssertEqual(refused.status, .forbidden)
            // The inbox without [upstream]: empty, and it says so.
            let inbox = try await clerk.get("/inbox")
            XCTAssertTrue(inbox.body.contains("Chưa có văn bản đến."))
        }
    }

    func testReplacingTheFileBeforeSigning() async throws {
        try await withConsole { rig in
            var clerk = try await Self.clerk(rig)
            _ = try await clerk.get("/outbox/new")
            let stored = try await Self.upload(clerk, "/outbox/new", Self.fields(extra: [.file("file", "a.pdf", Self.pdf)]))
            let location = try XCTUnwrap(stored.location)
            let id = try XCTUnwrap(DocumentID(String(location.dropFirst("/documents/".count).prefix { $0 != "?" })))
            try XCTSkipUnless(try rig.store.document(id)?.state.isBeforeSigning == true, "the box's defaults send without signing")
            _ = try await clerk.get(location)
            let broken = try await Self.upload(clerk, "/documents/\(id)/replace", [.file("file", "a.pdf", Array("%PDF-1.4 junk".utf8))])
            XCTAssertEqual(broken.status, .conflict)
            XCTAssertEqual(try rig.store.document(id)?.version, 0)
            let replacement = Array(SamplePDF.bytes("Tờ trình đã sửa"))
            let replaced = try await Self.upload(clerk, "/documents/\(id)/replace", [.file("file", "a.pdf", replacement)])
            XCTAssertEqual(replaced.location, "/documents/\(id)?done=replace", replaced.body)
            XCTAssertEqual(try rig.store.document(id)?.version, 1)
            let file = try await clerk.get("/documents/\(id)/file")
            XCTAssertEqual(Array(file.body.utf8), replacement)
        }
    }

    /// An incoming document as the relay stores one: a valid seal and a signature that is not valid.
    static func storeIncoming(_ store: DocumentStore) throws {
        let record = """
                {"hub_id": 41, "kind": "document", "package_key": "k41", "sender": "000.00.00.H01 <script>", "sha256": "00", "size": 2048,
                 "stored_at": 0, "folder": "2026-12-05 UBND huyện",
                 "verdict": {"outcome": "invalid", "checked_at": 0, "history": [], "findings": [
                   {"file": "cong-van.pdf", "signer": "UBND huyện", "outcome": "valid"},
                   {"file": "cong-van.pdf", "signer": "Nguyễn Văn <b>A</b>", "outcome": "invalid",
                    "reason": "tệp đã bị sửa sau khi ký / the file was changed after signing"}]}}
                """
        try store.saveInbound(JSONDecoder().decode(InboundRecord.self, from: Data(record.utf8)))
    }

    func testInboxStatusesGoToTheRelayAndItsRefusalsAreTold() async throws {
        let calls = Mutex<[String]>([])
        let recorder: ConsoleDocuments.StatusRecorder = { hubID, code, description, staff throws(RelayService.ClerkStatusRefusal) in
            calls.withLock { $0.append("\(hubID) \(code) \(description ?? "-") \(staff ?? "-")") }
            if code == "02", description == nil { throw .reasonRequired }
        }
        try await withConsole(recordStatus: recorder) { rig in
            try Self.storeIncoming(rig.store)
            var clerk = try await Self.clerk(rig)
            let page = try await clerk.get("/inbox/41")
            for text in ["03 — Đã tiếp nhận, vào sổ", "04 — Đã phân công", "05 — Đang xử lý", "06 — Đã hoàn thành", "02 — Từ chối"] {
                XCTAssertTrue(page.body.contains(text), text)
            }
            let forged = try await clerk.post("/inbox/41/status", ["code": "03"], csrf: "forged")
            XCTAssertEqual(forged.status, .forbidden)
            let registered = try await clerk.post("/inbox/41/status", ["code": "03"])
            XCTAssertEqual(registered.location, "/inbox/41?done=status", registered.body)
            let refused = try await clerk.post("/inbox/41/status", ["code": "02", "description": " "])
            XCTAssertEqual(refused.status, .badRequest)
            XCTAssertTrue(refused.body.contains("Từ chối (02) cần ghi lý do."), refused.body)
            let withReason = try await clerk.post("/inbox/41/status", ["code": "02", "description": "Sai thẩm quyền <script>"])
            XCTAssertEqual(withReason.status, .seeOther)
            let unknown = try await clerk.post("/inbox/99/status", ["code": "03"])
            XCTAssertEqual(unknown.status, .notFound)
            XCTAssertEqual(calls.withLock { $0 }, ["41 03 - Văn thư", "41 02 - Văn thư", "41 02 Sai thẩm quyền <script> Văn thư"])
            let actions = try rig.base.accounts.auditEntries(limit: 50).filter { $0.action.hasPrefix("inbox_status") }.map { "\($0.action) \($0.detail ?? "")" }
            XCTAssertEqual(Set(actions), ["inbox_status 03", "inbox_status_refused 02", "inbox_status 02", "inbox_status_refused no such document"])
        }
    }

    func testTheInboxShowsEachVerdictAndTheFilesAndRefusesWithoutARelay() async throws {
        let inbox = directory + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox + "/2026-12-05 UBND huyện", withIntermediateDirectories: true)
        try Data(Self.pdf).write(to: URL(fileURLWithPath: inbox + "/2026-12-05 UBND huyện/cong-van.pdf"))
        try Data("<script>alert(1)</script>".utf8).write(to: URL(fileURLWithPath: inbox + "/2026-12-05 UBND huyện/trang.html"))
        try await withConsole(inboxFolder: inbox) { rig in
            try Self.storeIncoming(rig.store)
            var clerk = try await Self.clerk(rig)
            let list = try await clerk.get("/inbox")
            XCTAssertTrue(list.body.contains("/inbox/41"), list.body)
            XCTAssertTrue(list.body.contains("không hợp lệ"))
            XCTAssertTrue(list.body.contains("000.00.00.H01 &lt;script&gt;"))
            let page = try await clerk.get("/inbox/41")
            XCTAssertEqual(page.status, .ok)
            XCTAssertTrue(page.body.contains("<ul><li><a href=\"/inbox/41/files/cong%2Dvan%2Epdf\">"), page.body)
            XCTAssertFalse(page.body.contains("&lt;ul") || page.body.contains("&lt;li"), page.body)
            for text in ["Chữ ký của UBND huyện trên tệp &quot;cong-van.pdf&quot;: hợp lệ",
                         "Chữ ký của Nguyễn Văn &lt;b&gt;A&lt;/b&gt; trên tệp &quot;cong-van.pdf&quot;: không hợp lệ — tệp đã bị sửa sau khi ký",
                         "/inbox/41/files/cong%2Dvan%2Epdf", "Chưa cấu hình [upstream]"] {
                XCTAssertTrue(page.body.contains(text), "\(text) missing:\n\(page.body)")
            }
            XCTAssertFalse(page.body.contains("<script>") || page.body.contains("<b>A"))
            let file = try await clerk.get("/inbox/41/files/cong-van.pdf")
            XCTAssertEqual(Array(file.body.utf8), Self.pdf)
            // A page from outside is only ever a download, never rendered by the console's origin.
            var headers: HTTPFields = [.cookie: clerk.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")]
            headers[.accept] = "text/html"
            let html = try await rig.client.execute(uri: "/inbox/41/files/trang.html?inline=1", method: .get, headers: headers, body: nil)
            XCTAssertEqual(html.headers[.contentType], "application/octet-stream")
            XCTAssertTrue(html.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
            for path in ["/inbox/41/files/..%2F..%2Fgateway.sqlite", "/inbox/41/files/nothing.pdf", "/inbox/42", "/inbox/x"] {
                let answer = try await clerk.get(path)
                XCTAssertEqual(answer.status, .notFound, path)
            }
            // Without [upstream] a status cannot be sent: said, nothing recorded.
            let refused = try await clerk.post("/inbox/41/status", ["code": "03"])
            XCTAssertEqual(refused.status, .conflict)
            XCTAssertTrue(refused.body.contains("Chưa cấu hình [upstream]"))
        }
    }

    /// 10,000 documents: the outbox's first page, a page by state and a search stay fast (the
    /// walk down the primary key stops at a page).
    func testTheOutboxStaysFastWithTenThousandDocuments() async throws {
        try await withConsole { rig in
            var clerk = try await Self.clerk(rig)
            _ = try await clerk.get("/outbox/new")
            let first = try await Self.upload(clerk, "/outbox/new", Self.fields(extra: [.file("file", "a.pdf", Self.pdf)]))
            XCTAssertEqual(first.status, .seeOther)
            // 10,000 copies of it, in several states, by SQLite itself (committing each would take minutes).
            let sql = """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
                INSERT INTO document (id, file_name, size, sha256, state, source, intake_key, metadata, priority, received_at, updated_at,
                                      state_reason, version, register_number)
                SELECT printf('00000000-0000-7000-8000-%012d', i), file_name, size, sha256,
                       CASE i % 3 WHEN 0 THEN 'queued' WHEN 1 THEN 'delivered' ELSE state END, source, NULL,
                       json_set(metadata, '$.subject', 'Văn bản số ' || i, '$.number', CAST(i AS TEXT)), priority, received_at, updated_at,
                       state_reason, version, register_number
                FROM n, (SELECT * FROM document LIMIT 1);
                """
            let filled = runProgram("/usr/bin/sqlite3", [rig.store.layout.databasePath, sql])
            XCTAssertEqual(filled.status, 0, filled.err)
            XCTAssertEqual(try rig.store.countsByState().values.reduce(0, +), 10_001)
            for path in ["/outbox", "/outbox?state=queued", "/outbox?q=12345", "/outbox?recipient=000.00.00.H01&q=s%E1%BB%91"] {
                let start = ContinuousClock.now
                let page = try await clerk.get(path)
                let elapsed = ContinuousClock.now - start
                XCTAssertEqual(page.status, .ok)
                XCTAssertLessThan(page.body.utf8.count, 200_000, path)
                print("outbox \(path): \(elapsed), \(page.body.utf8.count) bytes")
                XCTAssertLessThan(elapsed, .seconds(1), path)
            }
        }
    }
}

/// The bounded multipart reader, fed in every chunk size.
final class UnitMultipartTests: XCTestCase {
    func testPartsSurviveAnySplitAndBadBodiesAreRefused() throws {
        let file = Array((0..<600).map { UInt8($0 % 256) }) + Array("\r\n--almost".utf8)
        let body = ConsoleDocumentPagesTests.multipart([.field("subject", "Trích yếu"), .file("file", "a \"b\".pdf", file)], boundary: "XyZ")
        for size in [1, 2, 3, 7, 64, body.count] {
            var parser = MultipartParser(boundary: "XyZ")
            var events: [MultipartParser.Event] = []
            var start = 0
            while start < body.count {
                try parser.feed(body[start..<min(start + size, body.count)]) { events.append($0) }
                start += size
            }
            try parser.finish()
            var parts: [MultipartPart] = []
            var data: [[UInt8]] = []
            for event in events {
                switch event {
                case .part(let part): parts.append(part); data.append([])
                case .data(let bytes): data[data.count - 1] += bytes
                case .end: break
                }
            }
            XCTAssertEqual(parts.map(\.name), ["subject", "file"], "chunks of \(size)")
            XCTAssertEqual(parts[1].fileName, "a \"b\".pdf")
            XCTAssertEqual(data[0], Array("Trích yếu".utf8))
            XCTAssertEqual(data[1], file, "chunks of \(size)")
        }
        XCTAssertEqual(MultipartParser.boundary(contentType: "multipart/form-data; boundary=\"a b\""), "a b")
        XCTAssertNil(MultipartParser.boundary(contentType: "application/x-www-form-urlencoded"))
        var cut = MultipartParser(boundary: "XyZ")
        try cut.feed(body.prefix(100)) { _ in }
        XCTAssertThrowsError(try cut.finish())
        var endless = MultipartParser(boundary: "XyZ")
        XCTAssertThrowsError(try endless.feed([UInt8](repeating: 65, count: 20_000)) { _ in })
        var headers = MultipartParser(boundary: "XyZ")
        XCTAssertThrowsError(try headers.feed(Array("--XyZ\r\n".utf8) + [UInt8](repeating: 65, count: 20_000)) { _ in })
    }
}

// The commune software's API on the console (/api/v1, docs/api.md) in memory: API keys and their
// roles, each route, a PIN refused, and docs/api.openapi.yaml against the routes served.
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

final class ConsoleAPITests: XCTestCase {
    var directory = ""
    let clock = ConsoleRouterTests.TestClock()

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("console-api-\(UUID().uuidString)").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    struct Rig: Sendable {
        let client: any TestClientProtocol
        let server: ConsoleServer
        let store: DocumentStore
        var accounts: AccountStore { store.accounts }

        /// A key made as `gatewayd api-key add` makes one.
        func key(_ name: String, _ role: APIKeyRole = .vanThu) throws -> String {
            try APIKeys.add(name: name, role: role, by: "cli:test", rules: server.rules, accounts: accounts).get()
        }

        func call(_ method: HTTPRequest.Method, _ path: String, key: String?, headers: HTTPFields = [:], body: [UInt8] = [])
            async throws -> (status: HTTPResponse.Status, json: [String: Any], headers: HTTPFields) {
            var headers = headers
            if let key { headers[.authorization] = "Bearer \(key)" }
            let response = try await client.execute(uri: path, method: method, headers: headers, body: ByteBuffer(bytes: body))
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
            return (response.status, json, response.headers)
        }

        func post(_ path: String, key: String?, json: String) async throws -> (status: HTTPResponse.Status, json: [String: Any], headers: HTTPFields) {
            try await call(.post, path, key: key, headers: [.contentType: "application/json"], body: Array(json.utf8))
        }

        /// A submission as the local API takes one.
        func submit(key: String?, metadata: String) async throws -> (status: HTTPResponse.Status, json: [String: Any], headers: HTTPFields) {
            try await call(.post, "/api/v1/documents", key: key,
                           headers: [HTTPField.Name("X-Gateway-Metadata")!: Data(metadata.utf8).base64EncodedString(), .contentType: "application/pdf"],
                           body: ConsoleDocumentPagesTests.pdf)
        }
    }

    static func errorCode(_ json: [String: Any]) -> String? { (json["error"] as? [String: Any])?["code"] as? String }

    func withAPI(recordStatus: ConsoleDocuments.StatusRecorder? = nil, _ test: @escaping @Sendable (Rig) async throws -> Void) async throws {
        let layout = StoreLayout(dataDirectory: directory)
        let store = try DocumentStore(layout: layout, limits: .init(diskReserve: 0), logger: Logger(label: "test"), ioPool: .singleton)
        let setupCode = SetupCode(layout: layout)
        let ca = BoxCA(layout: layout)
        try ca.prepare(names: ServerNames(dnsNames: ["localhost"], ipAddresses: [[127, 0, 0, 1]]), now: clock.now)
        let clock = clock
        let intake = DocumentIntake(store: store, parser: MetadataParser(directory: store), signedClaims: .unconfigured)
        let server = ConsoleServer(accounts: store.accounts, rules: AccountRules(leaderIdentities: []), setupCode: setupCode, ca: ca,
                                   counts: { try store.countsByState() }, tokens: nil,
                                   documents: ConsoleDocuments(store: store, intake: intake, recordStatus: recordStatus, inboxFolder: directory + "/inbox"),
                                   now: { clock.now }, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await Application(router: server.router()).test(.router) { client in
            try await test(Rig(client: client, server: server, store: store))
        }
    }

    func testNoKeyAnUnknownOrARevokedKeyIsRefusedWith401AndTheUsesAreAudited() async throws {
        try await withAPI { rig in
            let none = try await rig.call(.get, "/api/v1/documents", key: nil)
            XCTAssertEqual(none.status, .unauthorized)
            XCTAssertEqual(Self.errorCode(none.json), "unauthorized")
            XCTAssertNotNil((none.json["error"] as? [String: Any])?["message_vi"], "the local API's error body")
            XCTAssertEqual(none.headers[.wwwAuthenticate], "Bearer realm=\"gatewayd\"")
            // A document posted without a key: refused without being stored, its body dropped.
            do { let got = try await rig.call(.post, "/api/v1/documents", key: nil, body: [UInt8](repeating: 0x25, count: 256 * 1024))
                XCTAssertEqual(got.status, .unauthorized) }
            XCTAssertEqual(try rig.store.countsByState().values.reduce(0, +), 0)
            do { let got = try await rig.call(.get, "/api/v1/documents", key: "not-a-key"); XCTAssertEqual(got.status, .unauthorized) }
            let key = try rig.key("qlvb")
            do { let got = try await rig.call(.get, "/api/v1/documents", key: key); XCTAssertEqual(got.status, .ok) }
            // A session cookie is not a key: the API takes no cookies (and so needs no CSRF).
            do { let got = try await rig.call(.get, "/api/v1/documents", key: nil, headers: [.cookie: "gw_session=\(key)"]); XCTAssertEqual(got.status, .unauthorized) }
            try rig.accounts.revokeAPIKey("qlvb", audit: ConsoleAuditEntry(at: Date(), actor: "cli:test", action: "api_key_revoke", subject: "qlvb"))
            let revoked = try await rig.call(.get, "/api/v1/documents", key: key)
            XCTAssertEqual(revoked.status, .unauthorized)
            let audit = try rig.accounts.auditEntries().map { "\($0.actor) \($0.action) \($0.detail ?? "")" }
            XCTAssertEqual(Array(audit.prefix(4)), ["api:qlvb api_key_refused revoked", "cli:test api_key_revoke ", "cli:test api_key_add van_thu",
                                                    "api:? api_key_refused unknown"])
            // Only the hash is kept.
            XCTAssertFalse(try String(contentsOfFile: rig.store.layout.databasePath, encoding: .isoLatin1).contains(key))
        }
    }

    func testAReadOnlyKeyReadsButIsRefusedEveryChangeWith403() async throws {
        try await withAPI { rig in
            let key = try rig.key("bao-cao", .readOnly)
            do { let got = try await rig.call(.get, "/api/v1/documents", key: key); XCTAssertEqual(got.status, .ok) }
            do { let got = try await rig.call(.get, "/api/v1/inbox", key: key); XCTAssertEqual(got.status, .ok) }
            let submitted = try await rig.submit(key: key, metadata: #"{"file_name": "a.pdf", "recipients": ["000.00.00.H01"]}"#)
            XCTAssertEqual(submitted.status, .forbidden)
            XCTAssertEqual(Self.errorCode(submitted.json), "forbidden")
            XCTAssertEqual(try rig.store.countsByState().values.reduce(0, +), 0, "nothing stored")
            do { let got = try await rig.post("/api/v1/signature-requests", key: key, json: #"{"documents": []}"#); XCTAssertEqual(got.status, .forbidden) }
            do { let got = try await rig.post("/api/v1/inbox/41/status", key: key, json: #"{"code": "03"}"#); XCTAssertEqual(got.status, .forbidden) }
            XCTAssertEqual(try rig.accounts.auditEntries().filter { $0.action == "api_key_refused" }.count, 3)
        }
    }

    func testAKeySubmitsThroughTheIntakeListsAndGetsItsDocuments() async throws {
        try await withAPI { rig in
            let key = try rig.key("qlvb")
            let bad = try await rig.submit(key: key, metadata: #"{"file_name": "a.pdf", "recipients": ["000.00"]}"#)
            XCTAssertEqual(bad.status, .badRequest)
            XCTAssertEqual(Self.errorCode(bad.json), "invalid_agency_code", "the intake's own refusal")
            let submitted = try await rig.submit(key: key, metadata: #"{"file_name": "to-trinh.pdf", "recipients": ["000.00.00.H01"], "subject": "Tờ trình"}"#)
            XCTAssertEqual(submitted.status, .created, "\(submitted.json)")
            let id = try XCTUnwrap(submitted.json["id"] as? String)
            XCTAssertEqual(try rig.store.document(XCTUnwrap(DocumentID(id)))?.fileName, "to-trinh.pdf")
            let list = try await rig.call(.get, "/api/v1/documents", key: key)
            XCTAssertEqual((list.json["documents"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, [id])
            let one = try await rig.call(.get, "/api/v1/documents/\(id)", key: key)
            XCTAssertEqual(one.status, .ok)
            XCTAssertEqual(one.json["id"] as? String, id)
            do { let got = try await rig.call(.get, "/api/v1/documents/nope", key: key); XCTAssertEqual(Self.errorCode(got.json), "bad_request") }
            XCTAssertTrue(try rig.accounts.auditEntries().contains { $0.actor == "api:qlvb" && $0.action == "api_call" && $0.detail == "POST 201" })
        }
    }

    func testTheInboxIsListedReadAndActedOnThroughTheRelaysRecorder() async throws {
        let calls = Mutex<[String]>([])
        let recorder: ConsoleDocuments.StatusRecorder = { hubID, code, description, staff throws(RelayService.ClerkStatusRefusal) in
            calls.withLock { $0.append("\(hubID) \(code) \(description ?? "-") \(staff ?? "-")") }
            if code == "02", description == nil { throw .reasonRequired }
            if hubID != 41 { throw .noSuchDocument(hubID) }
        }
        try await withAPI(recordStatus: recorder) { rig in
            try ConsoleDocumentPagesTests.storeIncoming(rig.store)
            let key = try rig.key("qlvb")
            let list = try await rig.call(.get, "/api/v1/inbox", key: key)
            XCTAssertEqual((list.json["items"] as? [[String: Any]])?.compactMap { $0["hub_id"] as? Int }, [41])
            do { let got = try await rig.call(.get, "/api/v1/inbox/41", key: key); XCTAssertEqual(got.json["hub_id"] as? Int, 41) }
            do { let got = try await rig.call(.get, "/api/v1/inbox/42", key: key); XCTAssertEqual(got.status, .notFound) }
            let registered = try await rig.post("/api/v1/inbox/41/status", key: key, json: #"{"code": "03"}"#)
            XCTAssertEqual(registered.status, .accepted)
            let refused = try await rig.post("/api/v1/inbox/41/status", key: key, json: #"{"code": "02"}"#)
            XCTAssertEqual(Self.errorCode(refused.json), "reason_required")
            do { let got = try await rig.post("/api/v1/inbox/99/status", key: key, json: #"{"code": "04", "staff": "Lan"}"#); XCTAssertEqual(got.status, .notFound) }
            do { let got = try await rig.post("/api/v1/inbox/41/status", key: key, json: "[]"); XCTAssertEqual(Self.errorCode(got.json), "bad_request") }
            XCTAssertEqual(calls.withLock { $0 }, ["41 03 - qlvb", "41 02 - qlvb", "99 04 - Lan"])
        }
    }

    func testSignaturesAreAskedForWithALinkAndAPINIsNeverTaken() async throws {
        try await withAPI { rig in
            let key = try rig.key("qlvb")
            let submitted = try await rig.submit(key: key, metadata: #"{"file_name": "qd.pdf", "recipients": ["000.00.00.H01"], "signatures": ["leader", "organization"]}"#)
            let id = try XCTUnwrap(submitted.json["id"] as? String, "\(submitted.json)")
            XCTAssertEqual(try rig.store.document(XCTUnwrap(DocumentID(id)))?.state, .awaitingLeader)
            let withPIN = try await rig.post("/api/v1/signature-requests", key: key, json: #"{"documents": ["\#(id)"], "pin": "123456"}"#)
            XCTAssertEqual(withPIN.status, .badRequest)
            XCTAssertEqual(Self.errorCode(withPIN.json), "pin_not_accepted")
            XCTAssertEqual(try rig.store.document(XCTUnwrap(DocumentID(id)))?.state, .awaitingLeader, "nothing signed")
            let asked = try await rig.call(.post, "/api/v1/signature-requests", key: key,
                                           headers: [.contentType: "application/json"], body: Array(#"{"documents": ["\#(id)"]}"#.utf8))
            XCTAssertEqual(asked.status, .created, "\(asked.json)")
            let url = try XCTUnwrap(asked.json["url"] as? String)
            XCTAssertTrue(url.hasPrefix("https://") && url.hasSuffix("/signing?documents=\(id)"), url)
            XCTAssertEqual((asked.json["documents"] as? [[String: Any]])?.first?["state"] as? String, "awaiting_leader")
            do { let got = try await rig.post("/api/v1/signature-requests", key: key, json: #"{"documents": ["0190a1b2-0000-7000-8000-000000000000"]}"#); XCTAssertEqual(got.status,
                           .notFound) }
            do { let got = try await rig.post("/api/v1/signature-requests", key: key, json: #"{"documents": "x"}"#); XCTAssertEqual(got.status, .badRequest) }
        }
    }

    /// The OpenAPI file is read without a YAML library (none is a dependency, and one for a test
    /// is not worth it): the file keeps a fixed layout — under `paths:` each path at two spaces
    /// and each method at four — and any other key at those places fails here rather than being
    /// skipped. Every route the router registers is in the file with its method; every path and
    /// method in the file is served (answered by the key's gate, 401, not the router's 404).
    func testTheOpenAPIFileAndTheServedRoutesAgree() async throws {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/api.openapi.yaml"), encoding: .utf8)
        var documented = Set<String>()
        var path: String?
        var inPaths = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" "), !line.isEmpty, !line.hasPrefix("#") { inPaths = line == "paths:"; continue }
            guard inPaths else { continue }
            if line.hasPrefix("  "), !line.hasPrefix("   ") {
                XCTAssertTrue(line.hasPrefix("  /api/v1/") && line.hasSuffix(":"), "a path at two spaces: \(line)")
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path {
                let method = String(line.dropFirst(4).dropLast())
                XCTAssertTrue(["get", "post", "put", "delete", "patch"].contains(method) && line.hasSuffix(":"), "a method at four spaces: \(line)")
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let routes = documented
        try await withAPI { rig in
            let documented = routes
            let served = Set(rig.server.apiRoutes().map { "\($0.method.rawValue) \(ConsoleServer.apiPrefix)\($0.path)" })
            XCTAssertEqual(served.subtracting(documented), [], "served but not in docs/api.openapi.yaml")
            XCTAssertEqual(documented.subtracting(served), [], "in docs/api.openapi.yaml but not served")
            XCTAssertEqual(served.count, 8)
            for route in documented {
                let parts = route.split(separator: " ")
                let uri = parts[1].replacingOccurrences(of: "{id}", with: "41")
                let answer = try await rig.call(HTTPRequest.Method(String(parts[0]))!, uri, key: nil)
                XCTAssertEqual(answer.status, .unauthorized, "\(route) is served behind the key")
            }
            do { let got = try await rig.call(.get, "/api/v1/nothing", key: nil); XCTAssertEqual(got.status, .notFound, "an undocumented path is not") }
        }
    }
}

extension ConsoleAPITests {
    func testAQuanTriMakesAKeyOnThePageSeesItOnceAndRevokesIt() async throws {
        let clock = clock
        try await withAPI { rig in
            let base = ConsoleRouterTests.Rig(client: rig.client, server: rig.server, accounts: rig.accounts, clock: clock,
                                              admin: TestSecrets.value("password.console-admin"), other: TestSecrets.value("password.console-other"))
            var admin = ConsoleRouterTests.Browser(client: rig.client)
            try await ConsoleRouterTests.setUpAdministrator(&admin, base)
            try await ConsoleRouterTests.addClerk(&admin, base)
            let users = try await admin.get("/users")
            XCTAssertTrue(users.body.contains("href=\"/api-keys\""), users.body)
            let made = try await admin.post("/api-keys", ["name": "qlvb", "role": "van_thu"])
            XCTAssertEqual(made.status, .ok, made.body)
            let key = try XCTUnwrap(made.body.range(of: "<code id=\"new-key\">").map { String(made.body[$0.upperBound...].prefix { $0 != "<" }) })
            do { let got = try await rig.call(.get, "/api/v1/documents", key: key); XCTAssertEqual(got.status, .ok) }
            let page = try await admin.get("/api-keys")
            XCTAssertTrue(page.body.contains("qlvb") && !page.body.contains(key), "shown once")
            do { let got = try await admin.post("/api-keys", ["name": "<script>", "role": "van_thu"]); XCTAssertEqual(got.status, .badRequest)
                XCTAssertFalse(got.body.contains("<script>")) }
            do { let got = try await admin.post("/api-keys", ["name": "qlvb"], csrf: "forged"); XCTAssertEqual(got.status, .forbidden) }
            var clerk = ConsoleRouterTests.Browser(client: rig.client)
            try await ConsoleRouterTests.logIn(&clerk, "clerk", base.other)
            do { let got = try await clerk.get("/api-keys"); XCTAssertEqual(got.status, .forbidden) }
            do { let got = try await admin.post("/api-keys/revoke", ["name": "qlvb"]); XCTAssertEqual(got.location, "/api-keys") }
            do { let got = try await rig.call(.get, "/api/v1/documents", key: key); XCTAssertEqual(got.status, .unauthorized) }
            let actions = try rig.accounts.auditEntries().filter { $0.subject == "qlvb" }.map { "\($0.actor) \($0.action)" }
            XCTAssertEqual(Array(actions.prefix(2)), ["admin api_key_revoke", "admin api_key_add"])
        }
    }
}

extension ConsoleSigningTests {
    /// The link a signature request answers (`/signing?documents=ID`) opens the page with those
    /// documents chosen and the others not; the PIN is typed there.
    func testTheSignatureRequestsLinkChoosesItsDocuments() async throws {
        let password = password
        try await withSigning { rig in
            var leader = ConsoleRouterTests.Browser(client: rig.client)
            try await ConsoleRouterTests.logIn(&leader, "an", password)
            let (asked, other) = (rig.documents[0], rig.documents[1])
            let page = try await leader.get("/signing?documents=\(asked)")
            XCTAssertEqual(page.status, .ok)
            XCTAssertTrue(page.body.contains("id=\"doc.\(asked)\" checked>"), page.body)
            XCTAssertTrue(page.body.contains("id=\"doc.\(other)\">"), page.body)
            let all = try await leader.get("/signing")
            XCTAssertTrue(all.body.contains("id=\"doc.\(other)\" checked>"), "without the link every document is chosen")
        }
    }
}

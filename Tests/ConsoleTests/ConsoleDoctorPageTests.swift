// Chẩn đoán hộp / Box diagnosis: the quản trị's page shows `gatewayd doctor`'s checklist, judged
// on the box's real files — here the console's own CA and a server certificate near its end.
@testable import Console
import Foundation
import GatewayCore
import Hummingbird
import HummingbirdTesting
import Logging
import TestSupport
import XCTest

final class ConsoleDoctorPageTests: XCTestCase {
    typealias Browser = ConsoleRouterTests.Browser
    var directory = ""
    let clock = ConsoleRouterTests.TestClock()

    override func setUp() { directory = NSTemporaryDirectory() + "console-doctor-" + UUID().uuidString }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func testTheAdministratorSeesTheDoctorsChecklist() async throws {
        let layout = StoreLayout(dataDirectory: directory)
        let store = try DocumentStore(layout: layout, limits: .init(maximumDocumentSize: 1 << 20, diskReserve: 0), logger: Logger(label: "test"), ioPool: .singleton)
        _ = try SetupCode(layout: layout).ensure()
        let ca = BoxCA(layout: layout)
        // Issued 380 days ago: the server certificate (397 days) has 17 left, the CA 20 years.
        try ca.prepare(names: ServerNames(dnsNames: ["localhost"], ipAddresses: [[127, 0, 0, 1]]), now: Date().addingTimeInterval(-380 * 86400))
        let configuration = { var value = GatewayConfiguration(); value.dataDirectory = layout.dataDirectory; return value }()
        let files = Doctor.ConsoleFiles(caCertificate: ca.caCertificatePath, serverCertificate: ca.serverCertificatePath)
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let watch = OverviewWatch(store: store, limits: WarningLimits(), boxCertificate: nil) { tokens in
            Doctor.report(await Doctor.gather(configurationPath: "", configuration: configuration, tokens: tokens, console: files, logger: logger))
        }
        let clock = clock
        let server = ConsoleServer(accounts: store.accounts, rules: AccountRules(leaderIdentities: []), setupCode: SetupCode(layout: layout), ca: ca,
                                   counts: { try store.countsByState() },
                                   tokens: ConsoleRouterTests.FixedTokens(status: TokenServiceStatus(pcscd: "ok", readers: [], tokens: [])),
                                   watch: watch, now: { clock.now }, logger: logger)
        try await Application(router: server.router()).test(.router) { client in
            let rig = ConsoleRouterTests.Rig(client: client, server: server, accounts: store.accounts, clock: clock,
                                             admin: TestSecrets.value("password.console-admin"), other: TestSecrets.value("password.console-other"))
            var admin = Browser(client: client)
            try await ConsoleRouterTests.setUpAdministrator(&admin, rig)
            try await ConsoleRouterTests.addClerk(&admin, rig)
            var clerk = Browser(client: client)
            try await ConsoleRouterTests.logIn(&clerk, "clerk", rig.other)
            do { let got = try await clerk.get("/admin/doctor").status; XCTAssertEqual(got, .forbidden, "the quản trị's page") }

            do { let got = try await admin.get("/admin").body; XCTAssertTrue(got.contains("href=\"/admin/doctor\"")) }
            let page = try await admin.get("/admin/doctor")
            XCTAssertEqual(page.status, .ok)
            for (check, status) in [("configuration", "ok"), ("pcscd", "ok"), ("tokens", "ok"), ("hub", "ok"), ("store", "ok"),
                                    ("certificate.console_ca", "ok"), ("certificate.console", "warning")] {
                XCTAssertTrue(page.body.contains("data-check=\"\(check)\" data-status=\"\(status)\""), "\(check) \(status)")
            }
            XCTAssertTrue(page.body.contains("Chứng thư số của bảng điều khiển sắp hết hạn: còn 16 ngày")
                          || page.body.contains("Chứng thư số của bảng điều khiển sắp hết hạn: còn 17 ngày"), "in the page's language")
            XCTAssertTrue(page.body.contains("Khởi động lại gatewayd: nó tự cấp lại chứng thư số này"), "what to do")
            let english = try await admin.get("/admin/doctor?lang=en").body
            XCTAssertTrue(english.contains("The certificate of the console expires soon"), "and in English")
        }
    }
}

// `gatewayd doctor` and the console's Chẩn đoán page: the facts gathered once (`gather`, the only
// part that touches the box), then judged (`report`, pure: tests hand it any facts).
import DocumentModel
import DurableFiles
import Foundation
import Logging

package enum Doctor {
    /// The console's certificates (Console's `BoxCA` knows where they are).
    package struct ConsoleFiles: Sendable, Equatable {
        package var caCertificate: String
        package var serverCertificate: String
        package init(caCertificate: String, serverCertificate: String) { (self.caCertificate, self.serverCertificate) = (caCertificate, serverCertificate) }
    }

    package struct Facts: Sendable {
        /// Empty when the configuration is the running daemon's (the console).
        package var configurationPath: String
        package var configuration: GatewayConfiguration
        package var now: Date
        /// nil: the token layer could not be asked.
        package var tokens: TokenServiceStatus?
        /// nil: the console is off.
        package var console: ConsoleFiles?
        package var hub: HubProbe
        package var disk: Result<DoctorDisk.Space, SystemCallError>
        package var store: Result<DoctorStore.Facts, DoctorStore.Failure>
        /// The renewal service's state file (`<data_dir>/tls/renewal.json`); nil when none.
        package var renewal: RenewalState? = nil
    }

    /// Reads everything the checks need. `tokens` comes from the caller: the daemon's watcher, or
    /// gatewayd's own scan when the daemon is stopped.
    package static func gather(configurationPath: String, configuration: GatewayConfiguration, tokens: TokenServiceStatus?,
                               console: ConsoleFiles?, logger: Logger) async -> Facts {
        let layout = configuration.layout
        let disk = Result { () throws(SystemCallError) in try DoctorDisk.space(at: layout.dataDirectory) }
        let store = Result { () throws(DoctorStore.Failure) in try DoctorStore.read(layout) }
        let hub = await DoctorHub.probe(configuration.resolvedUpstream, logger: logger)
        return Facts(configurationPath: configurationPath, configuration: configuration, now: Date(), tokens: tokens, console: console,
                     hub: hub, disk: disk, store: store,
                     renewal: RenewalState.load(BoxIdentityFiles(dataDirectory: layout.dataDirectory).state))
    }

    /// The checklist, in the order a technician works through it.
    package static func report(_ facts: Facts) -> DoctorReport {
        let configuration = facts.configuration
        var checks = [configurationCheck(facts)]
        checks += DoctorTokens.judge(facts.tokens, now: facts.now)
        if let certificate = configuration.resolvedUpstream.certificateFile {
            checks.append(DoctorCertificates.file(id: "certificate.box", vi: "của hộp (kết nối cấp trên)", en: "the box (hub link)",
                                                  path: certificate, now: facts.now))
        }
        if let certificate = configuration.resolvedUpstream.certificateFile,
           let renewal = DoctorRenewal.judge(enrolled: configuration.enrolment.isConfigured,
                                             certificatePresent: FileManager.default.fileExists(atPath: certificate),
                                             state: facts.renewal, now: facts.now) {
            checks.append(renewal)
        }
        checks += DoctorHub.judge(facts.hub, hubURL: configuration.upstream.url)
        switch facts.disk {
        case .success(let space): checks.append(DoctorDisk.judge(space, reserve: configuration.storeLimits.diskReserve, path: configuration.dataDirectory))
        case .failure(let error):
            checks.append(DoctorCheck("disk", .fail, "Không đọc được dung lượng đĩa: \(error)", "Cannot read the disk's free space: \(error)",
                                      action: "Kiểm tra data_dir trong cấu hình", "Check data_dir in the configuration"))
        }
        if configuration.upstream.url != nil {
            checks += DoctorStore.judgeQueues(try? facts.store.get(), maximumAge: configuration.upstream.maximumQueueAge, now: facts.now)
        }
        checks.append(DoctorStore.judgeStore(facts.store))
        checks += consoleChecks(facts.console, now: facts.now)
        return DoctorReport(checkedAt: facts.now, checks: checks)
    }

    /// The configuration was read (else there is no report but `configurationFailure`); what it
    /// lacks for the relay is said here.
    static func configurationCheck(_ facts: Facts) -> DoctorCheck {
        if facts.configuration.upstream.url != nil, facts.configuration.agency.code == nil {
            return DoctorCheck("configuration", .warning, "Cấu hình \(facts.configurationPath): thiếu agency.code, không gửi được lên cấp trên",
                               "Configuration \(facts.configurationPath): agency.code is missing, nothing can be relayed",
                               action: "Đặt agency.code (mã định danh) rồi kiểm tra: gatewayd config check", "Set agency.code, then run gatewayd config check")
        }
        // The console asks the running daemon, whose configuration was valid to start it.
        let path = facts.configurationPath.isEmpty ? "" : ": \(facts.configurationPath)"
        return DoctorCheck("configuration", .ok, "Cấu hình hợp lệ\(path)", "The configuration is valid\(path)")
    }

    /// A configuration that cannot be read: nothing else can be checked.
    package static func configurationFailure(path: String, problem: String, now: Date) -> DoctorReport {
        DoctorReport(checkedAt: now, checks: [
            DoctorCheck("configuration", .fail, "Cấu hình \(path) không hợp lệ: \(problem)", "The configuration \(path) is not valid: \(problem)",
                        action: "Sửa theo gatewayd config check \(path)", "Fix it as gatewayd config check \(path) says"),
        ])
    }

    static func consoleChecks(_ console: ConsoleFiles?, now: Date) -> [DoctorCheck] {
        guard let console else { return [DoctorCheck("console", .ok, "Bảng điều khiển web đang tắt", "The web console is off")] }
        // Made by the daemon at its first start (BoxCA.prepare): none yet is not a fault.
        guard FileManager.default.fileExists(atPath: console.caCertificate) else {
            return [DoctorCheck("console", .warning, "Chưa có chứng thư số của bảng điều khiển (\(console.caCertificate))",
                                "The console has no certificate yet (\(console.caCertificate))",
                                action: "Khởi động gatewayd: nó tự tạo CA của hộp và chứng thư số", "Start gatewayd: it makes the box's CA and the certificate")]
        }
        var checks = [DoctorCertificates.file(id: "certificate.console_ca", vi: "CA của hộp (bảng điều khiển)", en: "the box's CA (console)",
                                              path: console.caCertificate, now: now)]
        var server = DoctorCertificates.file(id: "certificate.console", vi: "của bảng điều khiển", en: "the console",
                                             path: console.serverCertificate, now: now)
        // The daemon re-issues it 30 days before its end (BoxCA.renewBefore) at each start.
        if server.status != .ok, server.actionVI != nil {
            (server.actionVI, server.actionEN) = ("Khởi động lại gatewayd: nó tự cấp lại chứng thư số này", "Restart gatewayd: it issues this certificate again by itself")
        }
        checks.append(server)
        return checks
    }
}

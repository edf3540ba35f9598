// The hub: reachable, its TLS certificate trusted, the box's certificate accepted, and the box's
// clock against the hub's HTTP `Date` — from one request made with the relay's own client (its
// TLS configuration, its timeouts), explained by `HubTLSDiagnosis` when the handshake fails.
import AsyncHTTPClient
import DocumentModel
import Foundation
import Logging
import NIOPosix

/// What one request to the hub showed.
package enum HubProbe: Sendable, Equatable {
    case notConfigured
    /// The box's own certificate or key could not be loaded: no request was made.
    case boxFiles(String)
    /// No connection (refused, unreachable, timed out): never got to TLS.
    case unreachable(String)
    /// The handshake failed; `finding` says why when the diagnosis could tell.
    case tlsFailed(finding: HubTLSDiagnosis.Finding?, error: String)
    /// The hub answered `GET /v1/directory`; `date` its `Date` header, `sentAt` the middle of the
    /// exchange by the box's clock.
    case answered(status: Int, date: Date?, sentAt: Date)
}

package enum DoctorHub {
    /// The clock's limits. A box kept by NTP is within a second; a minute off means the time
    /// server is not reached (warning, signatures still acceptable); beyond 5 minutes signing
    /// times, register order and certificate checks are wrong enough to matter (fail) — the
    /// tolerance Kerberos and most TLS/OCSP checkers allow.
    package static let clockWarning: TimeInterval = 60
    package static let clockFailure: TimeInterval = 300

    /// `GET /v1/directory` with the relay's client (mutual TLS): the smallest request every hub
    /// answers to an enrolled box.
    package static func probe(_ upstream: GatewayConfiguration.Upstream, logger: Logger) async -> HubProbe {
        guard let settings = try? RelayClient.Settings(upstream) else { return .notConfigured }
        let client: RelayClient
        do { client = try RelayClient(settings: settings, ioPool: .singleton, logger: logger) } catch {
            return .boxFiles(error.messageEnglish)
        }
        let started = Date()
        let result: HubProbe
        do {
            let response = try await client.poller.execute(client.request("/v1/directory", method: .GET), timeout: .seconds(20), logger: logger)
            _ = try? await response.body.collect(upTo: 1 << 20)
            let sentAt = started.addingTimeInterval(Date().timeIntervalSince(started) / 2)
            result = .answered(status: Int(response.status.code), date: response.headers.first(name: "Date").flatMap(RetryAfter.httpDate), sentAt: sentAt)
        } catch {
            if RelayError.isTLSFailure(error) {
                var finding = HubTLSDiagnosis.refusalOfOurCertificate(error, settings: settings)
                if finding == nil { finding = await HubTLSDiagnosis.diagnose(settings: settings) }
                result = .tlsFailed(finding: finding, error: "\(error)")
            } else {
                result = .unreachable("\(error)")
            }
        }
        await client.shutdown()
        return result
    }

    /// The lines `hub`, `hub_tls`, `box_certificate_accepted` and `clock`.
    package static func judge(_ probe: HubProbe, hubURL: String?) -> [DoctorCheck] {
        let url = hubURL ?? "—"
        let notChecked = { (id: String) in
            DoctorCheck(id, .warning, "Chưa kiểm tra được (không kết nối được cấp trên)", "Could not be checked (no connection to the hub)",
                        action: "Xử lý mục hub trước", "Fix the hub line first")
        }
        switch probe {
        case .notConfigured:
            return [DoctorCheck("hub", .ok, "Không cấu hình cấp trên ([upstream]): văn bản ở lại trên hộp",
                                "No hub configured ([upstream]): documents stay on this box")]
        case .boxFiles(let error):
            return [DoctorCheck("hub", .fail, "Không kết nối được cấp trên: \(error)", "No connection to the hub could be made: \(error)",
                                action: "Kiểm tra [upstream] certificate và key (đường dẫn, quyền đọc)", "Check [upstream] certificate and key (paths, permissions)"),
                    notChecked("hub_tls"), notChecked("box_certificate_accepted"), notChecked("clock")]
        case .unreachable(let error):
            return [DoctorCheck("hub", .fail, "Không kết nối được cấp trên \(url): \(error)", "Cannot connect to the hub \(url): \(error)",
                                action: "Kiểm tra mạng (ADSL/4G), địa chỉ [upstream] url, và hỏi cấp trên máy chủ có chạy không",
                                "Check the network link (ADSL/4G), [upstream] url, and ask the hub's operators whether it runs"),
                    notChecked("hub_tls"), notChecked("box_certificate_accepted"), notChecked("clock")]
        case .tlsFailed(let finding, let error):
            let reachable = DoctorCheck("hub", .ok, "Kết nối được cấp trên \(url)", "The hub \(url) is reachable")
            if let finding, finding.code == "box_certificate_refused" {
                // Our side of the handshake judged the hub's certificate before sending ours.
                return [reachable,
                        DoctorCheck("hub_tls", .ok, "Chứng thư số của cấp trên được tin cậy", "The hub's certificate is trusted"),
                        DoctorCheck("box_certificate_accepted", .fail, finding.vi, finding.en,
                                    action: "Xin cấp lại chứng thư số cho hộp (gatewayd enroll) hoặc kiểm tra [upstream] certificate",
                                    "Have the box's certificate renewed (gatewayd enroll) or check [upstream] certificate"),
                        notChecked("clock")]
            }
            let (vi, en) = finding.map { ($0.vi, $0.en) } ?? ("Bắt tay TLS thất bại: \(error)", "The TLS handshake failed: \(error)")
            return [reachable,
                    DoctorCheck("hub_tls", .fail, vi, en,
                                action: "Kiểm tra [upstream] ca_file (CA của cấp trên) và địa chỉ url; hỏi cấp trên chứng thư số máy chủ",
                                "Check [upstream] ca_file (the hub's CA) and url; ask the hub's operators about its certificate"),
                    notChecked("box_certificate_accepted"), notChecked("clock")]
        case .answered(let status, let date, let sentAt):
            var checks = [DoctorCheck("hub", .ok, "Kết nối được cấp trên \(url)", "The hub \(url) is reachable"),
                          DoctorCheck("hub_tls", .ok, "Chứng thư số của cấp trên được tin cậy", "The hub's certificate is trusted")]
            if status == 200 {
                checks.append(DoctorCheck("box_certificate_accepted", .ok, "Cấp trên chấp nhận chứng thư số của hộp", "The hub accepts the box's certificate"))
            } else {
                checks.append(DoctorCheck("box_certificate_accepted", .fail, "Cấp trên trả lời HTTP \(status) với chứng thư số của hộp",
                                          "The hub answers HTTP \(status) to the box's certificate",
                                          action: "Hỏi cấp trên hộp (mã định danh) đã được phục vụ chưa", "Ask the hub's operators whether this box's agency code is served"))
            }
            checks.append(clock(hubDate: date, sentAt: sentAt))
            return checks
        }
    }

    static func clock(hubDate: Date?, sentAt: Date) -> DoctorCheck {
        guard let hubDate else {
            return DoctorCheck("clock", .warning, "Cấp trên không gửi giờ (Date): chưa so được đồng hồ", "The hub sent no Date: the clock could not be compared",
                               action: "Kiểm tra đồng bộ giờ: timedatectl", "Check time synchronisation: timedatectl")
        }
        // The header has whole seconds, truncated: half a second is the hub's rounding.
        let offset = sentAt.timeIntervalSince(hubDate) - 0.5
        let shown = String(format: "%+.0f", offset)
        let action = ("Đồng bộ giờ: kiểm tra timedatectl và máy chủ NTP (hộp ký với giờ sai thì chữ ký ghi sai thời điểm)",
                      "Synchronise the clock: check timedatectl and the NTP server (a box with a wrong clock signs with a wrong time)")
        if abs(offset) > clockFailure {
            return DoctorCheck("clock", .fail, "Đồng hồ của hộp lệch \(shown) giây so với cấp trên (quá 5 phút)",
                               "The box's clock is \(shown) s off the hub's (over 5 minutes)", action: action.0, action.1)
        }
        if abs(offset) > clockWarning {
            return DoctorCheck("clock", .warning, "Đồng hồ của hộp lệch \(shown) giây so với cấp trên (quá 1 phút)",
                               "The box's clock is \(shown) s off the hub's (over 1 minute)", action: action.0, action.1)
        }
        return DoctorCheck("clock", .ok, "Đồng hồ của hộp khớp với cấp trên (lệch \(shown) giây)", "The box's clock agrees with the hub's (\(shown) s)")
    }
}

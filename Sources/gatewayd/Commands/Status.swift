// `gatewayd status`: the running daemon's state for the technician.
import ArgumentParser
import Console
import DocumentModel
import Foundation
import GatewayCore
import TimeJSON

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Tình trạng dịch vụ / the daemon's status (exit 3 when it is not running).")
    @Flag(help: "JSON output.") var json = false
    @OptionGroup var location: Location

    func run() async throws {
        let configuration = try await CLI.call { try location.resolve() }
        let status = try await CLI.call { try await LocalAPIClient(socketPath: configuration.socketPath).status() }
        if json { try CLI.printJSON(WithConsole(status: status, console: ConsoleSummary(configuration))); return }
        var lines = [
            "gatewayd \(status.version), pid \(status.pid), chạy từ / since \(GatewayJSON.format(status.startedAt))",
            "Thư mục dữ liệu / data dir: \(status.dataDirectory)",
            "Tiếp nhận / intake: \(status.intake == "ok" ? "bình thường / ok" : "TẠM DỪNG: bộ nhớ đầy / PAUSED: disk full")",
            "Dung lượng trống / free: \(ByteCountText.format(status.freeBytes)) (dự trữ / reserve \(ByteCountText.format(status.diskReserve)))",
        ]
        if let hot = status.hotFolder {
            lines.append("Thư mục gửi / hot folder: \(hot.folder) — \(hot.waitingFiles) tệp đang chờ / waiting")
        }
        lines.append("Văn bản theo trạng thái / documents by state:")
        for state in DocumentState.allCases {
            lines.append("  \(state.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)) \(status.documentsByState[state.rawValue] ?? 0)")
        }
        if let relay = status.relay {
            let link = switch relay.link {
            case .up: "đã kết nối / up"
            case .down: "MẤT KẾT NỐI / DOWN"
            case .unknown: "chưa thử / not tried yet"
            }
            lines.append("Cấp trên / upstream: \(relay.hub ?? "—") — \(link)\(relay.linkSince.map { " từ / since \(GatewayJSON.format($0))" } ?? "")")
            lines.append("  Gửi thành công gần nhất / last success: \(relay.lastSuccessAt.map(GatewayJSON.format) ?? "—")")
            if let error = relay.lastError {
                lines.append("  Lỗi gần nhất / last error: \(relay.lastErrorAt.map(GatewayJSON.format) ?? "") \(error)")
            }
            lines.append("  Hàng đợi theo độ khẩn / queue by lane:")
            for lane in relay.lanes {
                lines.append("    \(lane.name.padding(toLength: 14, withPad: " ", startingAt: 0)) chờ / queued \(lane.queued), đang gửi / sending \(lane.sending)")
            }
            lines.append("  Đã nhận từ cấp trên / received from the hub: \(relay.inboxReceived)")
            for aside in relay.inboxSetAside ?? [] {
                lines.append("  Tạm gác, thử lại lúc / set aside, next try \(GatewayJSON.format(aside.retryAt)) (lần / failures \(aside.failures)): \(aside.what) — \(aside.reason)")
            }
            if let warning = relay.warning { lines.append("  CẢNH BÁO / WARNING: \(warning)") }
        } else {
            lines.append("Cấp trên / upstream: chưa cấu hình / not configured")
        }
        if let certificate = status.certificate {
            lines.append("Chứng thư số của hộp / box certificate: hết hạn / expires \(GatewayJSON.format(certificate.expiresAt)), "
                         + "gia hạn lúc / renewal at \(GatewayJSON.format(certificate.nextRenewalAt))")
            if let error = certificate.lastError {
                lines.append("  Lần gia hạn gần nhất / last renewal attempt: \(certificate.lastAttemptAt.map(GatewayJSON.format) ?? "—") \(error)")
            }
            if let warning = certificate.warning { lines.append("  CẢNH BÁO / WARNING: \(warning)") }
        }
        if let tokens = status.tokens {
            lines.append("Token ký số / signing tokens" + (tokens.pcscd == "ok" ? ":" : " — DỊCH VỤ THẺ KHÔNG CHẠY / pcscd unavailable:"))
            if tokens.tokens.isEmpty { lines.append("  (chưa cắm token nào / none plugged in)") }
            for token in tokens.tokens {
                let name = token.model.map { "\($0) — " } ?? ""
                let backend = switch token.backend {
                case "pkcs11"?: "PKCS#11 \(token.module ?? "")"
                case "none"?: "không mô-đun nào phục vụ / no module serves it, ATR \(token.atr)"
                default: token.piv ? "PIV" : "không hỗ trợ / unsupported, ATR \(token.atr)"
                }
                lines.append("  \(name)\(token.reader): " + backend)
                for certificate in token.certificates { lines.append("    slot \(certificate.slot): \(certificate.subject)") }
                if let tries = token.pinTriesLeft { lines.append("    PIN: còn \(tries) lần thử / \(tries) tries left") }
                if let problem = token.problem { lines.append("    \(problem)") }
            }
        }
        lines += consoleLines(configuration)
        print(lines.joined(separator: "\n"))
    }

    /// `status --json`: the daemon's answer with the console's part beside it (the setup code
    /// only as waiting or not: the JSON goes to status files that are shown more widely).
    struct WithConsole: Encodable {
        let status: DaemonStatus
        let console: ConsoleSummary

        enum Key: String, CodingKey { case console }

        func encode(to encoder: any Encoder) throws {
            try status.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(console, forKey: .console)
        }
    }

    struct ConsoleSummary: Encodable {
        var enabled: Bool
        var listen: String
        var caSHA256: String?
        var caSHA1: String?
        var setupCodeWaiting: Bool

        enum CodingKeys: String, CodingKey {
            case enabled, listen, caSHA256 = "ca_sha256", caSHA1 = "ca_sha1", setupCodeWaiting = "setup_code_waiting"
        }

        init(_ configuration: GatewayConfiguration) {
            let ca = BoxCA(layout: configuration.layout)
            let fingerprints = try? BoxCA.fingerprints(ofPEMFile: ca.caCertificatePath)
            (enabled, listen) = (configuration.console.enabled, configuration.console.listen)
            (caSHA256, caSHA1) = (fingerprints?.sha256, fingerprints?.sha1)
            setupCodeWaiting = FileManager.default.fileExists(atPath: SetupCode(layout: configuration.layout).path)
        }
    }

    /// The console's CA fingerprint — what the technician compares on each PC, never only the
    /// page's own (an impostor would show one too) — and, until the first quản trị exists, the
    /// setup code (readable by whoever may read the data directory).
    func consoleLines(_ configuration: GatewayConfiguration) -> [String] {
        guard configuration.console.enabled else { return ["Trang quản lý / console: tắt / disabled"] }
        let ca = BoxCA(layout: configuration.layout)
        var lines = ["Trang quản lý / console: https://\(configuration.console.listen)"]
        if let fingerprints = try? BoxCA.fingerprints(ofPEMFile: ca.caCertificatePath) {
            lines.append("  Chứng thư gốc / CA SHA-256: \(fingerprints.sha256)")
            lines.append("  (Windows Thumbprint, SHA-1: \(fingerprints.sha1))")
        } else {
            lines.append("  Chứng thư gốc / CA: chưa tạo / not made yet (\(ca.caCertificatePath))")
        }
        let setup = SetupCode(layout: configuration.layout)
        if let code = setup.read() {
            lines.append("  Mã cài đặt (dùng một lần) / setup code (one use): \(code)")
        } else if FileManager.default.fileExists(atPath: setup.path) {
            lines.append("  Mã cài đặt / setup code: cần quyền đọc \(setup.path) / needs permission to read \(setup.path)")
        }
        return lines
    }
}

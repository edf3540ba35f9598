// `gatewayd status`: the running daemon's state for the technician.
import ArgumentParser
import DocumentModel
import Foundation
import GatewayCore

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Tình trạng dịch vụ / the daemon's status (exit 3 when it is not running).")
    @Flag(help: "JSON output.") var json = false
    @OptionGroup var location: Location

    func run() async throws {
        let status = try await CLI.call { try await LocalAPIClient(socketPath: try location.resolve().socketPath).status() }
        if json { try CLI.printJSON(status); return }
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
            if let warning = relay.warning { lines.append("  CẢNH BÁO / WARNING: \(warning)") }
        } else {
            lines.append("Cấp trên / upstream: chưa cấu hình / not configured")
        }
        if let tokens = status.tokens {
            lines.append("Token ký số / signing tokens" + (tokens.pcscd == "ok" ? ":" : " — DỊCH VỤ THẺ KHÔNG CHẠY / pcscd unavailable:"))
            if tokens.tokens.isEmpty { lines.append("  (chưa cắm token nào / none plugged in)") }
            for token in tokens.tokens {
                let name = token.model.map { "\($0) — " } ?? ""
                lines.append("  \(name)\(token.reader): " + (token.piv ? "PIV" : "không hỗ trợ / unsupported, ATR \(token.atr)"))
                for certificate in token.certificates { lines.append("    slot \(certificate.slot): \(certificate.subject)") }
                if let tries = token.pinTriesLeft { lines.append("    PIN: còn \(tries) lần thử / \(tries) tries left") }
                if let problem = token.problem { lines.append("    \(problem)") }
            }
        }
        print(lines.joined(separator: "\n"))
    }
}

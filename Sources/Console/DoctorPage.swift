// Chẩn đoán / Box diagnosis: `gatewayd doctor`'s checklist (GatewayCore's Doctor) on a page of
// the quản trị's, in the page's language, with what to do beside each line that is not ok.
import Foundation
import GatewayCore
import Hummingbird

extension ConsoleServer {
    func doctorPage(_ visit: Visit) async throws -> Response {
        func w(_ vi: String, _ en: String) -> String { Self.word(visit, vi, en) }
        guard let doctor = watch?.doctor else { return refusal(.notFound, .notFound, visit) }
        let report = await doctor(await tokens?.tokenStatus())
        let rows = report.checks.map { check -> HTML in
            let (mark, style) = switch check.status {
            case .ok: (w("Tốt", "OK"), "ok")
            case .warning: (w("Cảnh báo", "Warning"), "warn")
            case .fail: (w("Lỗi", "Failure"), "error")
            }
            let action = check.actionVI.map { w($0, check.actionEN ?? $0) } ?? ""
            return """
                <tr data-check="\(check.id)" data-status="\(check.status.rawValue)"><td class="\(style)">\(mark)</td>\
                <td><code>\(check.id)</code></td><td>\(w(check.messageVI, check.messageEN))</td><td>\(action)</td></tr>
                """
        }
        let summary: HTML = switch report.status {
        case .ok: "<p class=\"ok\">\(w("Mọi mục đều tốt.", "Every check is ok."))</p>"
        case .warning: "<p class=\"warn\">\(w("Có cảnh báo: xem các dòng bên dưới.", "Warnings: see the lines below."))</p>"
        case .fail: "<p class=\"error\">\(w("Có lỗi cần xử lý: xem các dòng bên dưới.", "Failures to fix: see the lines below."))</p>"
        }
        let body: HTML = """
            \(summary)
            <p>\(w("Kiểm tra lúc", "Checked at")) \(Self.time(report.checkedAt)) — \
            \(w("giống lệnh gatewayd doctor của kỹ thuật viên", "the same as the technician's gatewayd doctor")). \
            <a href="/admin/doctor">\(w("Kiểm tra lại", "Check again"))</a></p>
            <table><tr><th>\(w("Kết quả", "Result"))</th><th>\(w("Mục", "Check"))</th><th>\(w("Chi tiết", "Details"))</th>\
            <th>\(w("Cần làm", "What to do"))</th></tr>\(rows)</table>
            """
        return Self.page(Layout.page(title: w("Chẩn đoán hộp", "Box diagnosis"), body, visit.page))
    }
}

// trang-thai.txt: what first boot did, for the technician who opens the GATEWAY partition on a
// Windows PC — Vietnamese first with English beside, CRLF and a UTF-8 byte-order mark so that
// even an old Notepad shows the diacritics. The same lines go to the serial console.
import Foundation
import GatewayCore

package struct BootStatus {
    package let lines: [String]

    package init(report: BootReport) {
        var lines = ["TRẠNG THÁI CẤU HÌNH HỘP / BOX CONFIGURATION STATUS", "Tệp / file: \(report.bootFile)", ""]
        switch report.result {
        case .applied where report.problems.isEmpty:
            lines.append("KẾT QUẢ: ĐÃ ÁP DỤNG gateway.toml / RESULT: gateway.toml APPLIED")
        case .applied:
            lines.append("KẾT QUẢ: ÁP DỤNG CHƯA XONG (xem lỗi bên dưới) / RESULT: NOT FULLY APPLIED (see the errors below)")
        case .keptLastGood:
            lines.append("KẾT QUẢ: gateway.toml CÓ LỖI, KHÔNG ÁP DỤNG GÌ; cấu hình tốt gần nhất vẫn giữ nguyên")
            lines.append("RESULT: gateway.toml HAS ERRORS, NOTHING APPLIED; the last good configuration stays in force")
        case .fallback:
            lines.append("KẾT QUẢ: gateway.toml CÓ LỖI và hộp chưa từng có cấu hình tốt: dùng cấu hình dự phòng")
            lines.append("  (mạng DHCP, SSH bằng các khóa đọc được, trang quản lý bật) để kỹ thuật viên vẫn vào được hộp")
            lines.append("RESULT: gateway.toml HAS ERRORS and the box never had a good configuration: the fallback is in force")
            lines.append("  (DHCP network, SSH with the keys that could be read, the console on) so that a technician can still reach the box")
        }
        if !report.issues.isEmpty {
            lines += ["", "Lỗi trong gateway.toml / errors in gateway.toml (\(report.issues.count)):"]
            for issue in report.issues {
                let place = issue.line.map { "dòng / line \($0): " } ?? ""
                lines.append("  \(place)\(issue.key.map { "\($0): " } ?? "")\(issue.message)")
                if let hint = issue.hint { lines.append("      gợi ý / hint: \(hint)") }
            }
            lines.append("  Sửa gateway.toml rồi khởi động lại hộp / fix gateway.toml, then restart the box.")
        }
        for problem in report.problems { lines.append("  LỖI / ERROR: \(problem)") }
        lines += ["", "Đang dùng / in force:"] + Self.describe(report.inForce)
        if !report.secretsBlanked.isEmpty {
            lines.append("  Đã dùng và xoá khỏi gateway.toml / used and blanked in gateway.toml: \(report.secretsBlanked.joined(separator: ", "))")
        }
        lines.append(report.written.isEmpty ? "  Không tệp nào thay đổi / no file changed"
                     : "  Tệp đã ghi / files written: \(report.written.joined(separator: ", "))")
        lines += ["", Self.consoleLine(report)]
        if let fingerprints = report.caFingerprints {
            lines.append("  Chứng thư gốc / CA SHA-256: \(fingerprints.sha256)")
            lines.append("  (Windows Thumbprint, SHA-1: \(fingerprints.sha1))")
            lines.append("  So vân tay này trên mỗi máy trước khi cài chứng thư / compare this fingerprint on each PC before installing the CA")
        } else if let problem = report.caProblem, report.inForce.daemon.console.enabled {
            lines.append("  Chứng thư gốc / CA: chưa tạo được lúc này, gatewayd tạo khi khởi động; xem vân tay bằng `gatewayd status`")
            lines.append("    not made now, gatewayd makes it when it starts; `gatewayd status` shows its fingerprint (\(problem))")
        }
        self.lines = lines
    }

    /// What the file is written as: BOM, CRLF (also where a message held a line break of its own).
    package var fileBytes: [UInt8] {
        [0xEF, 0xBB, 0xBF] + Array(text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0 + "\r\n" }.joined().utf8)
    }
    /// What the serial console gets.
    package var text: String { lines.joined(separator: "\n").replacingOccurrences(of: "\r\n", with: "\n") + "\n" }

    static func describe(_ boot: BootConfiguration) -> [String] {
        var lines: [String] = []
        if let name = boot.hostname { lines.append("  Tên hộp / host name: \(name) (\(name).local)") }
        switch boot.network {
        case .dhcp(let dns):
            lines.append("  Mạng / network: DHCP" + (dns.isEmpty ? "" : ", DNS \(dns.joined(separator: ", "))"))
        case .fixed(let address, let gateway, let dns):
            lines.append("  Mạng / network: tĩnh / static \(address)" + (gateway.map { ", cổng / gateway \($0)" } ?? "")
                         + (dns.isEmpty ? "" : ", DNS \(dns.joined(separator: ", "))"))
        }
        lines.append("  Máy chủ giờ / time servers: " + (boot.timeServers.isEmpty ? "mặc định / the defaults" : boot.timeServers.joined(separator: ", ")))
        lines.append("  SSH: " + (boot.sshKeys.isEmpty ? "không có khóa nào / no key" : "\(boot.sshKeys.count) khóa / key(s): "
            + boot.sshKeys.map { "\($0.type) \($0.comment.isEmpty ? String($0.base64.suffix(12)) : $0.comment)" }.joined(separator: "; ")))
        if boot.shareAccounts.isEmpty {
            lines.append("  Thư mục chia sẻ / shares: không có (chưa khai báo [shares]) / none (no [shares] accounts)")
        } else {
            let host = boot.hostname.map { "\\\\\($0).local\\" } ?? ""
            lines.append("  Thư mục chia sẻ / shares: " + ShareFiles.names(boot.daemon).map { host + $0 }.joined(separator: ", ")
                + "; tài khoản / accounts: " + boot.shareAccounts.map(\.name).joined(separator: ", "))
        }
        if boot.enrolmentToken != nil { lines.append("  Mã ghi danh / enrolment token: đã nhận, chờ ghi danh / received, enrolment pending") }
        if boot.setupCode != nil { lines.append("  Mã cài đặt trang quản lý / console setup code: đã đặt / set") }
        let daemon = boot.daemon
        let agency = [daemon.agency.code.map { "\($0)" }, daemon.agency.name].compactMap { $0 }
        lines.append("  Cơ quan / agency: " + (agency.isEmpty ? "chưa khai báo / not set" : agency.joined(separator: " — ")))
        lines.append("  Cấp trên / upstream: \(daemon.upstream.url ?? "chưa cấu hình / not configured")")
        return lines
    }

    static func consoleLine(_ report: BootReport) -> String {
        guard report.inForce.daemon.console.enabled else { return "Trang quản lý / console: tắt / disabled" }
        let addresses = report.consoleAddresses.isEmpty ? "địa chỉ do DHCP cấp: xem trên bộ định tuyến / the address DHCP gives: see the router"
            : report.consoleAddresses.joined(separator: "  ")
        return "Trang quản lý / console: \(addresses)"
    }
}

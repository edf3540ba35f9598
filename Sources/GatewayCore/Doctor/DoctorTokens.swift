// pcscd, the tokens seen and which backend serves each, and the tokens' certificates — from the
// token layer's own summary (`TokenServiceStatus`: the daemon's watcher, or one scan by gatewayd).
import Foundation

package enum DoctorTokens {
    /// `status` nil: the token layer could not be asked at all.
    package static func judge(_ status: TokenServiceStatus?, now: Date) -> [DoctorCheck] {
        guard let status else {
            return [DoctorCheck("pcscd", .warning, "Không hỏi được tình trạng token", "The token layer could not be asked",
                                action: "Chạy gatewayd token list để xem chi tiết", "Run gatewayd token list for details")]
        }
        var checks: [DoctorCheck] = []
        if status.pcscd == "ok" {
            checks.append(DoctorCheck("pcscd", .ok, "Dịch vụ thẻ (pcscd) trả lời, \(status.readers.count) đầu đọc",
                                      "The smart card service (pcscd) answers, \(status.readers.count) reader(s)"))
        } else {
            checks.append(DoctorCheck("pcscd", .fail, "Dịch vụ thẻ (pcscd) không trả lời: không ký được bằng token USB",
                                      "The smart card service (pcscd) does not answer: USB tokens cannot sign",
                                      action: "Khởi động lại: systemctl restart pcscd; xem journalctl -u pcscd",
                                      "Restart it: systemctl restart pcscd; see journalctl -u pcscd"))
        }
        // No token plugged in is not a fault: leaders keep their tokens and plug them in to sign.
        if status.tokens.isEmpty {
            checks.append(DoctorCheck("tokens", .ok, "Chưa cắm token nào (cắm token khi cần ký)", "No token plugged in (plug one in to sign)"))
        }
        for token in status.tokens {
            let name = [token.model, token.reader].compactMap { $0 }.joined(separator: ", ")
            let backend = token.backend ?? (token.piv ? "piv" : "none")
            let served = backend == "pkcs11" ? "PKCS#11 \(token.module ?? "")" : backend == "piv" ? "PIV" : "—"
            if let problem = token.problem ?? (token.pinBlocked == true ? "PIN bị khóa / PIN blocked" : nil) {
                // The token layer writes its problems "Vietnamese / English": each message takes its half.
                let halves = problem.components(separatedBy: " / ")
                let (vi, en) = halves.count == 2 ? (halves[0], halves[1]) : (problem, problem)
                checks.append(DoctorCheck("token:\(token.reader)", .warning, "Token \(name) không dùng được (\(served)): \(vi)",
                                          "Token \(name) cannot be used (\(served)): \(en)",
                                          action: "Làm theo hướng dẫn trong thông báo; gatewayd token list cho chi tiết",
                                          "Follow the message's advice; gatewayd token list for details"))
            } else {
                let tries = (vi: token.pinTriesLeft.map { ", PIN còn \($0) lần" } ?? "", en: token.pinTriesLeft.map { ", \($0) PIN tries left" } ?? "")
                checks.append(DoctorCheck("token:\(token.reader)", .ok, "Token \(name), phục vụ bởi \(served)\(tries.vi)",
                                          "Token \(name), served by \(served)\(tries.en)"))
            }
            for certificate in token.certificates {
                checks.append(DoctorCertificates.judge(id: "certificate.token:\(token.reader):\(certificate.slot)",
                                                       vi: "của token \(certificate.subject)", en: "token \(certificate.subject)",
                                                       notBefore: nil, notAfter: certificate.notAfter, now: now))
            }
        }
        return checks
    }
}

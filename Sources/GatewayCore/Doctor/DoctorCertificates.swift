// Certificates' validity and expiry: the box's relay certificate, the tokens', the console's.
import DocumentModel
import Foundation
import SwiftASN1
import TimeJSON
import X509

package enum DoctorCertificates {
    /// Warned about when this little remains, whatever the lifetime: the time a commune needs to
    /// have a CA renew a token's certificate (the overview warns at the same 30 days).
    package static let warningDays = 30

    /// One certificate's line. Fail when expired or not yet valid (nothing signed or relayed with
    /// it is accepted); warning when less than a third of its lifetime or fewer than 30 days
    /// remain (renewal is due at two thirds: issue 20's renewal rule); ok otherwise.
    /// `notBefore` nil (a token's summary carries only the end): the 30 days alone.
    package static func judge(id: String, vi: String, en: String, notBefore: Date?, notAfter: Date, now: Date) -> DoctorCheck {
        let end = GatewayJSON.format(notAfter)
        if now > notAfter {
            return DoctorCheck(id, .fail, "Chứng thư số \(vi) đã hết hạn lúc \(end)", "The certificate of \(en) expired at \(end)",
                               action: "Xin cấp lại chứng thư số rồi cài vào hộp", "Have the certificate renewed and install it on the box")
        }
        if let notBefore, now < notBefore {
            let start = GatewayJSON.format(notBefore)
            return DoctorCheck(id, .fail, "Chứng thư số \(vi) chỉ có hiệu lực từ \(start)", "The certificate of \(en) is valid only from \(start)",
                               action: "Kiểm tra đồng hồ của hộp (mục clock)", "Check the box's clock (the clock line)")
        }
        let left = notAfter.timeIntervalSince(now)
        let days = Int(left / 86400)
        let shortOfThird = notBefore.map { left < notAfter.timeIntervalSince($0) / 3 } ?? false
        if left < Double(warningDays) * 86400 || shortOfThird {
            return DoctorCheck(id, .warning, "Chứng thư số \(vi) sắp hết hạn: còn \(days) ngày (đến \(end))",
                               "The certificate of \(en) expires soon: \(days) days left (until \(end))",
                               action: "Xin cấp lại chứng thư số trước khi hết hạn", "Have the certificate renewed before it expires")
        }
        return DoctorCheck(id, .ok, "Chứng thư số \(vi) còn hiệu lực \(days) ngày (đến \(end))",
                           "The certificate of \(en) is valid for \(days) more days (until \(end))")
    }

    /// The first certificate of a PEM file (a chain file starts with its leaf), judged; a file
    /// that cannot be read is a fail.
    package static func file(id: String, vi: String, en: String, path: String, now: Date) -> DoctorCheck {
        do {
            let certificate = try CertificateFile.first(inPEMFile: path)
            return judge(id: id, vi: vi, en: en, notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter, now: now)
        } catch {
            return DoctorCheck(id, .fail, "Không đọc được chứng thư số \(vi) (\(path)): \(error)",
                               "Cannot read the certificate of \(en) (\(path)): \(error)",
                               action: "Kiểm tra đường dẫn trong cấu hình và quyền đọc tệp", "Check the path in the configuration and that the file can be read")
        }
    }
}

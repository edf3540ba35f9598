// The box certificate's renewal (issue 20): an enrolled box renews by itself at 2/3 of the
// lifetime; a renewal that failed or is late is a warning here as in `gatewayd status`, the
// metrics and the console's overview — read from the renewal service's own state file.
import DocumentModel
import Foundation
import TimeJSON

enum DoctorRenewal {
    /// Nil for a box without `[enrolment]` (its certificate is placed by hand: the certificate
    /// line says its expiry). `state` is the renewal service's file, nil before its first start.
    static func judge(enrolled: Bool, certificatePresent: Bool, state: RenewalState?, now: Date) -> DoctorCheck? {
        guard enrolled else { return nil }
        guard certificatePresent else {
            return DoctorCheck("renewal", .fail, "Hộp chưa ghi danh với cấp trên: chưa có chứng thư số để kết nối",
                               "The box is not enrolled with the hub: it has no certificate to connect with",
                               action: "Xin mã ghi danh từ cấp trên, chạy gatewayd enroll --token …, rồi khởi động lại gatewayd",
                               "Get an enrolment token from the hub's operators, run gatewayd enroll --token …, then restart gatewayd")
        }
        guard let state else {
            return DoctorCheck("renewal", .ok, "Đã ghi danh; lịch gia hạn được đặt khi gatewayd chạy",
                               "Enrolled; the renewal is scheduled when gatewayd runs")
        }
        let (expiry, next) = (GatewayJSON.format(state.notAfter), GatewayJSON.format(state.nextAttemptAt))
        if now >= state.notAfter {
            return DoctorCheck("renewal", .fail, "Chứng thư số của hộp đã hết hạn lúc \(expiry)", "The box's certificate expired at \(expiry)",
                               action: "Xin mã ghi danh mới từ cấp trên và chạy gatewayd enroll --token …, rồi khởi động lại gatewayd",
                               "Get a new enrolment token from the hub's operators, run gatewayd enroll --token …, then restart gatewayd")
        }
        if let vi = state.lastErrorVi, let en = state.lastErrorEn {
            return DoctorCheck("renewal", .warning,
                               "Gia hạn chứng thư số thất bại \(state.failures) lần (hết hạn lúc \(expiry)): \(vi); thử lại lúc \(next)",
                               "Renewing the box's certificate failed \(state.failures) time(s) (it expires at \(expiry)): \(en); next try at \(next)",
                               action: "Hộp tự thử lại; kiểm tra kết nối tới cấp trên (dòng hub ở trên). Nếu cấp trên từ chối, xin mã ghi danh mới (gatewayd enroll --token …)",
                               "The box retries by itself; check the hub link (the hub lines above). If the hub refuses, get a new enrolment token (gatewayd enroll --token …)")
        }
        if now >= RenewalSchedule().warningTime(notBefore: state.notBefore, notAfter: state.notAfter) {
            return DoctorCheck("renewal", .warning, "Chứng thư số của hộp chưa được gia hạn, hết hạn lúc \(expiry)",
                               "The box's certificate is not renewed yet; it expires at \(expiry)",
                               action: "Kiểm tra gatewayd có chạy và kết nối tới cấp trên; gatewayd enroll --renew-now để gia hạn ngay",
                               "Check that gatewayd runs and reaches the hub; gatewayd enroll --renew-now renews at once")
        }
        return DoctorCheck("renewal", .ok, "Chứng thư số của hộp tự gia hạn lúc \(next) (hết hạn lúc \(expiry))",
                           "The box's certificate renews by itself at \(next) (it expires at \(expiry))")
    }
}

import DocumentModel
import DurableFiles
import Foundation
import TimeJSON

/// What the renewal knows, kept in `<data_dir>/tls/renewal.json` so that `gatewayd status`, the
/// metrics and a restarted daemon see it: the certificate's validity, the last attempt and its
/// error (Vietnamese and English), the next attempt.
package struct RenewalState: Codable, Sendable, Equatable {
    package var notBefore: Date
    package var notAfter: Date
    package var lastAttemptAt: Date?
    package var lastErrorVi: String?
    package var lastErrorEn: String?
    package var lastErrorCode: EnrolmentError.Reason?
    /// Failed attempts in a row (0 once one succeeds).
    package var failures = 0
    package var nextAttemptAt: Date
    package var renewedAt: Date?

    enum CodingKeys: String, CodingKey {
        case notBefore = "certificate_not_before", notAfter = "certificate_expires_at", lastAttemptAt = "last_attempt_at"
        case lastErrorVi = "last_error_vi", lastErrorEn = "last_error_en", lastErrorCode = "last_error_code", failures
        case nextAttemptAt = "next_attempt_at", renewedAt = "renewed_at"
    }

    package init(notBefore: Date, notAfter: Date, nextAttemptAt: Date) {
        (self.notBefore, self.notAfter, self.nextAttemptAt) = (notBefore, notAfter, nextAttemptAt)
    }

    package static func load(_ path: String) -> RenewalState? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? GatewayJSON.decoder.decode(RenewalState.self, from: data)
    }

    package func save(_ path: String) throws {
        try POSIXFile.replaceWhole(path, with: Array(try GatewayJSON.encoder.encode(self)), mode: 0o644)
    }

    /// `gatewayd enroll --renew-now`: the running daemon's renewal attempts at once (within the
    /// few seconds it takes to look at this file again). False when the box does not renew.
    package static func renewNow(_ path: String, now: Date = Date()) throws -> Bool {
        guard var state = load(path) else { return false }
        state.nextAttemptAt = now
        try state.save(path)
        return true
    }

    /// The warning `gatewayd status` and the metrics show, nil while all is well: the certificate
    /// expired, or the last renewal failed, or the renewal is late.
    package func warning(now: Date, schedule: RenewalSchedule = RenewalSchedule()) -> String? {
        let expiry = GatewayJSON.format(notAfter)
        if now >= notAfter {
            return "Chứng thư số của hộp đã hết hạn lúc \(expiry): ghi danh lại (gatewayd enroll --token …) / the box's certificate expired at \(expiry): enrol again (gatewayd enroll --token …)"
        }
        if let lastErrorVi, let lastErrorEn {
            return "Gia hạn chứng thư số thất bại (\(failures) lần), hết hạn lúc \(expiry): \(lastErrorVi) / renewing the box's certificate failed (\(failures) times), it expires at \(expiry): \(lastErrorEn)"
        }
        if now >= schedule.warningTime(notBefore: notBefore, notAfter: notAfter) {
            return "Chứng thư số của hộp chưa được gia hạn, hết hạn lúc \(expiry) / the box's certificate is not renewed yet, it expires at \(expiry)"
        }
        return nil
    }
}

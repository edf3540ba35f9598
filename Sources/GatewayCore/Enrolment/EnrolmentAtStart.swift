import DurableFiles
import Foundation
import Logging

/// What `gatewayd serve` does about enrolment before the relay starts: completes a renewal a crash
/// interrupted, enrols once when a token is configured and the box has no certificate yet, and
/// holds the certificate for the renewal service. Nothing here stops the daemon: without a
/// certificate the box still takes documents in, and the log says what the technician must do.
package enum EnrolmentAtStart {
    package struct Prepared: Sendable {
        package var identity: BoxIdentity
        package var renewal: CertificateRenewalService
    }

    /// `prepared` nil when enrolment is not configured, or the box has no usable certificate;
    /// `retry` when enrolment failed for a reason that may pass (the link), to run as a service.
    package static func prepare(_ configuration: GatewayConfiguration, logger: Logger) async -> (prepared: Prepared?, retry: EnrolmentRetry?) {
        var retry: EnrolmentRetry?
        return (await prepare(configuration, logger: logger, retry: &retry), retry)
    }

    private static func prepare(_ configuration: GatewayConfiguration, logger: Logger, retry: inout EnrolmentRetry?) async -> Prepared? {
        guard configuration.enrolment.isConfigured, configuration.upstream.isConfigured else { return nil }
        let enrolment: BoxEnrolment
        do { enrolment = try BoxEnrolment(configuration: configuration, logger: logger) } catch {
            logger.critical("enrolment not possible: \(error.message)")
            return nil
        }
        let files = enrolment.files
        files.finishInstall()
        if !files.hasCertificate {
            guard let token = files.token(configured: configuration.enrolment.token) else {
                logger.critical("""
                    hộp chưa có chứng thư số và chưa có mã ghi danh: chạy gatewayd enroll --token … / \
                    the box has no certificate and no enrolment token: run gatewayd enroll --token …
                    """)
                return nil
            }
            do {
                let certificate = try await enrolment.enroll(token: token)
                logger.notice("box enrolled with the hub", metadata: ["not_after": "\(certificate.notValidAfter)", "hub": "\(enrolment.enrolmentURL)"])
            } catch {
                logger.critical("enrolment failed: \(error.message)", metadata: ["reason": "\(error.reason.rawValue)"])
                if EnrolmentRetry.isRetryable(error.reason) {
                    retry = EnrolmentRetry(enroll: { () async throws(EnrolmentError) in _ = try await enrolment.enroll(token: token) }, logger: logger)
                }
                return nil
            }
        }
        do {
            let identity = try BoxIdentity(files: files)
            return Prepared(identity: identity, renewal: CertificateRenewalService(identity: identity, enrolment: enrolment, logger: logger))
        } catch {
            logger.critical("""
                không đọc được chứng thư số hoặc khóa của hộp (\(files.certificate), \(files.key)): \(error) — \
                ghi danh lại: gatewayd enroll --token … / cannot read the box's certificate or key: enrol again with gatewayd enroll --token …
                """)
            return nil
        }
    }
}

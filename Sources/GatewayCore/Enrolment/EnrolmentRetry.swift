import DocumentModel
import Foundation
import Logging
import ServiceLifecycle

/// Enrolment at start could not reach the hub (the link down when the box first boots: ADSL not
/// up yet, a 4G modem still dialling) — a box must not wait for a technician to restart it. This
/// service tries again with the relay's backoff (30 s doubling to an hour, full jitter) while the
/// box takes documents in; once the certificate is installed it ends the daemon gracefully with
/// `Enrolled`, and systemd (`Restart=always`) starts it again, now with the relay. A refusal the
/// hub will repeat (the token refused, the request refused) is not retried: the log says what to do.
package struct EnrolmentRetry: Service {
    /// Thrown by `run` once the box is enrolled: the daemon stops and is started again.
    package struct Enrolled: Error, CustomStringConvertible {
        package var description: String {
            "đã ghi danh với cấp trên; gatewayd khởi động lại để bật chuyển tiếp / enrolled with the hub; gatewayd restarts to start the relay"
        }
    }

    let enroll: @Sendable () async throws(EnrolmentError) -> Void
    let schedule: RetrySchedule
    let sleep: @Sendable (Duration) async throws -> Void
    let logger: Logger

    package init(enroll: @escaping @Sendable () async throws(EnrolmentError) -> Void,
                 schedule: RetrySchedule = RetrySchedule(base: .seconds(30), cap: .seconds(3600)),
                 sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }, logger: Logger) {
        (self.enroll, self.schedule, self.sleep, self.logger) = (enroll, schedule, sleep, logger)
    }

    /// Whether another attempt can succeed without a person: the link, the TLS path, an answer
    /// that went wrong, the disk — not a refusal by the hub.
    package static func isRetryable(_ reason: EnrolmentError.Reason) -> Bool {
        switch reason {
        case .hubUnreachable, .tlsNotTrusted, .badAnswer, .files: true
        case .notConfigured, .tokenRefused, .certificateRefused, .requestRefused: false
        }
    }

    package func run() async throws {
        try await cancelWhenGracefulShutdown {
            var failures = 1  // the attempt at start failed
            while true {
                do { try await sleep(schedule.delay(failures: failures, retryAfter: nil, unit: Double.random(in: 0..<1))) } catch {
                    return  // the daemon stops
                }
                do throws(EnrolmentError) {
                    try await enroll()
                } catch {
                    failures += 1
                    guard Self.isRetryable(error.reason) else {
                        logger.critical("enrolment failed, not retried: \(error.message)", metadata: ["reason": "\(error.reason.rawValue)"])
                        // Nothing more to do here; the daemon goes on without the relay until it stops.
                        try? await gracefulShutdown()
                        return
                    }
                    logger.error("enrolment failed, will retry: \(error.message)",
                                 metadata: ["reason": "\(error.reason.rawValue)", "failures": "\(failures)"])
                    continue
                }
                logger.notice("box enrolled with the hub after \(failures) failed attempt(s); restarting to start the relay")
                throw Enrolled()
            }
        }
    }
}

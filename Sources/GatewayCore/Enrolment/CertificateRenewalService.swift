import DocumentModel
import Foundation
import Logging
import ServiceLifecycle
import TimeJSON
import X509

/// The daemon's renewal of the box's certificate (docs/protocol.md, "The box's side"): at the
/// time `RenewalSchedule` gives, a new key made here, `simplereenroll` over mutual TLS with the
/// current certificate, the new pair written beside the old, tried with the hub, then switched in
/// for new connections (`BoxIdentity`) and renamed onto the old one. A connection already open —
/// an upload in progress — keeps the certificate it was opened with. A failure leaves the old
/// certificate in use, is kept in the state file (status, metrics) and is retried with backoff.
package final class CertificateRenewalService: Service, Sendable {
    package struct Clock: Sendable {
        package var now: @Sendable () -> Date
        /// A draw in [0, 1) for the jitters.
        package var draw: @Sendable () -> Double
        /// Waits until the given time (returns early if the task is cancelled).
        package var sleep: @Sendable (Date) async -> Void

        package static let system = Clock(now: { Date() }, draw: { Double.random(in: 0..<1) }, sleep: { date in
            let seconds = date.timeIntervalSinceNow
            if seconds > 0 { try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000))) }
        })

        package init(now: @escaping @Sendable () -> Date, draw: @escaping @Sendable () -> Double, sleep: @escaping @Sendable (Date) async -> Void) {
            (self.now, self.draw, self.sleep) = (now, draw, sleep)
        }
    }

    let identity: BoxIdentity
    let enrolment: BoxEnrolment
    let schedule: RenewalSchedule
    let clock: Clock
    let logger: Logger

    package init(identity: BoxIdentity, enrolment: BoxEnrolment, schedule: RenewalSchedule = RenewalSchedule(),
                 clock: Clock = .system, logger: Logger) {
        (self.identity, self.enrolment, self.schedule, self.clock, self.logger) = (identity, enrolment, schedule, clock, logger)
    }

    package func run() async {
        await cancelWhenGracefulShutdown {
            var state = self.startingState()
            self.save(state)
            while !Task.isCancelled {
                await self.wait(&state)
                if Task.isCancelled { return }
                state = await self.attempt(state)
                self.save(state)
            }
        }
    }

    /// Until `state.nextAttemptAt`, looking at the state file every `recheck` for an earlier time
    /// (`gatewayd enroll --renew-now` writes one there).
    func wait(_ state: inout RenewalState) async {
        while !Task.isCancelled, clock.now() < state.nextAttemptAt {
            await clock.sleep(min(state.nextAttemptAt, clock.now().addingTimeInterval(Self.recheck)))
            if let saved = RenewalState.load(enrolment.files.state), saved.notAfter == state.notAfter, saved.nextAttemptAt < state.nextAttemptAt {
                state.nextAttemptAt = saved.nextAttemptAt
            }
        }
    }

    static let recheck: TimeInterval = 5

    /// The state file's, when it is about the certificate in use (a restart keeps the backoff and
    /// the last error); otherwise a new schedule for the certificate in use.
    func startingState() -> RenewalState {
        let certificate = identity.material.certificate
        if let saved = RenewalState.load(enrolment.files.state), saved.notAfter == certificate.notValidAfter,
           saved.notBefore == certificate.notValidBefore {
            return saved
        }
        return fresh(for: certificate)
    }

    func fresh(for certificate: Certificate) -> RenewalState {
        RenewalState(notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter,
                     nextAttemptAt: schedule.renewalTime(notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter, unit: clock.draw()))
    }

    /// One renewal; the state after it.
    func attempt(_ state: RenewalState) async -> RenewalState {
        let started = clock.now()
        do throws(EnrolmentError) {
            let certificate = try await renew()
            var renewed = fresh(for: certificate)
            // A certificate backdated by the hub (five minutes) and very short-lived (a test
            // hub's minutes) can be past its 2/3 when it arrives: not before half of what is left,
            // so renewals never follow each other without pause.
            let now = clock.now()
            renewed.nextAttemptAt = max(renewed.nextAttemptAt, now.addingTimeInterval(certificate.notValidAfter.timeIntervalSince(now) / 2))
            renewed.lastAttemptAt = started
            renewed.renewedAt = clock.now()
            logger.notice("box certificate renewed", metadata: [
                "not_after": "\(GatewayJSON.format(certificate.notValidAfter))", "next_renewal": "\(GatewayJSON.format(renewed.nextAttemptAt))",
            ])
            return renewed
        } catch {
            var failed = state
            failed.lastAttemptAt = started
            failed.failures += 1
            (failed.lastErrorVi, failed.lastErrorEn, failed.lastErrorCode) = (error.vi, error.en, error.reason)
            failed.nextAttemptAt = schedule.retryTime(failures: failed.failures, now: clock.now(), notAfter: state.notAfter, unit: clock.draw())
            logger.error("box certificate renewal failed: \(error.message)", metadata: [
                "reason": "\(error.reason.rawValue)", "failures": "\(failed.failures)", "next_attempt": "\(GatewayJSON.format(failed.nextAttemptAt))",
                "not_after": "\(GatewayJSON.format(state.notAfter))",
            ])
            return failed
        }
    }

    /// The renewal itself: request, answer checked, new pair beside the old, tried, switched in,
    /// renamed. Until the switch nothing the relay uses has changed.
    func renew() async throws(EnrolmentError) -> Certificate {
        let current = identity.material
        let request = try BoxEnrolment.request(enrolment.agencyCode)
        let chain = try await enrolment.client.reenroll(baseURL: enrolment.relayURL, request: request, identity: current)
        // The issuer is the one that issued the current certificate (the CA the hub accepts).
        try BoxEnrolment.check(chain, request: request, agencyCode: enrolment.agencyCode,
                               authorities: Array(current.chain.dropFirst()), now: clock.now())
        let next = enrolment.files.next
        try next.writeNewKey(request.key)
        try next.writeCertificate(chain)
        let material: BoxIdentityMaterial
        do { material = try BoxIdentityMaterial(files: next) } catch {
            throw EnrolmentError.files("chứng thư số mới / the new certificate", error)
        }
        // The hub takes the new certificate before the relay depends on it.
        try await enrolment.client.probe(baseURL: enrolment.relayURL, identity: material)
        identity.switchTo(material)
        try enrolment.files.install(from: next)
        return material.certificate
    }

    func save(_ state: RenewalState) {
        do { try state.save(enrolment.files.state) } catch {
            logger.error("renewal state not saved: \(error)", metadata: ["file": "\(enrolment.files.state)"])
        }
    }
}

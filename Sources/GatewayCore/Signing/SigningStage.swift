import Crypto
import DocumentModel
import DocumentSigning
import DurableFiles
import Foundation
import Logging
import Signing
import SwiftASN1
import SigningPolicy
import X509

/// What the stage asks of the world, injected so the rules are tested with a clock and answers
/// of our choosing: the time, whether the clock is synchronised, the certificate's chain and
/// revocation, a timestamp.
package struct SigningEnvironment: Sendable {
    package var now: @Sendable () -> Date
    /// timedatectl's NTPSynchronized (nil: could not be told).
    package var clockSynchronised: @Sendable () -> Bool?
    /// The signer's certificate (chain: leaf first) against `[trust]`: its chain and revocation,
    /// as found (`CertificateStanding.check`); `.unchecked` without anchors.
    package var checkCertificate: @Sendable ([Certificate]) async -> CertificateStanding
    /// An RFC 3161 timestamp for a signature value (PAdES B-T) when a TSA is configured; when it
    /// fails the document is signed B-B: the link being down never blocks signing.
    package var timestamp: (@Sendable ([UInt8]) async throws -> [UInt8])?

    package init(now: @escaping @Sendable () -> Date = { Date() }, clockSynchronised: @escaping @Sendable () -> Bool?,
                 checkCertificate: @escaping @Sendable ([Certificate]) async -> CertificateStanding = { _ in .unchecked },
                 timestamp: (@Sendable ([UInt8]) async throws -> [UInt8])? = nil) {
        (self.now, self.clockSynchronised, self.checkCertificate, self.timestamp) = (now, clockSynchronised, checkCertificate, timestamp)
    }
}

/// The signing stage: sessions that a person opens with their token and PIN, in which the
/// documents waiting for that person's role are signed one by one (docs/signing.md).
///
/// The rules it keeps: nothing is signed outside a session; one session at a time (two would
/// race for the same documents and the same register); the token's certificate must be allowed
/// in the role before any PIN is used; a token, PIN or certificate error ends the session at
/// once (a wrong PIN is never tried again); a problem with one document is that document's
/// result and the batch goes on; the session ends after `sessionTimeout` at the latest; the PIN
/// is wiped when it ends. Each signature is a new version committed with its state change
/// (`DocumentStore.commitSignature`); the seal's number comes from the register first
/// (`assignNumber`), so a document keeps its number if the seal must be tried again.
package actor SigningStage {
    let store: DocumentStore
    let tokens: any SigningTokens
    let settings: SigningSettings
    /// The appearance images as uploaded since the start (the console's Quản trị page).
    package nonisolated let images: AppearanceImages
    let environment: SigningEnvironment
    let logger: Logger
    /// Moves after a seal: signed → queued, with the envelope signed by the same token
    /// (`OutboundPackager.queue`); nil (no agency code to send from) leaves sealed documents `signed`.
    let afterSeal: (@Sendable (DocumentRecord, any Signer) async throws -> Void)?

    private var sessions: [String: SigningSessionStatus] = [:]
    private var finishedOrder: [String] = []
    /// The session (or PIN change: `SigningStage+PIN.swift`) holding the tokens; one at a time.
    var running: String?
    /// Wakes those following a session's progress (`status(_:after:)`).
    private let progress = ChangeSignal()
    static let keptSessions = 32

    package init(store: DocumentStore, tokens: any SigningTokens, settings: SigningSettings, environment: SigningEnvironment,
                 logger: Logger, afterSeal: (@Sendable (DocumentRecord, any Signer) async throws -> Void)? = nil) {
        (self.store, self.tokens, self.settings, self.environment, self.logger, self.afterSeal) = (store, tokens, settings, environment, logger, afterSeal)
        images = AppearanceImages(settings: settings)
    }

    // MARK: Opening

    /// Opens a session and starts its batch; answers once the token was opened and its
    /// certificate allowed, with the session's first status. Refusals change nothing.
    package func open(_ request: SigningSessionRequest, pin: SessionPIN) async throws(SigningSessionRefusal) -> SigningSessionStatus {
        guard request.role == .leader || request.role == .organization else {
            pin.wipe()
            throw SigningSessionRefusal(code: "role", message: "phiên ký chỉ cho vai leader hoặc organization / a session signs as leader or organization")
        }
        if let running {
            pin.wipe()
            throw SigningSessionRefusal.sessionRunning(running)
        }
        let id = "S-" + String(UInt64(environment.now().timeIntervalSince1970 * 1000), radix: 36) + "-" + String(UInt32.random(in: .min ... .max), radix: 36)
        running = id
        let token: any SessionToken
        let authorization: SigningAuthorization
        do throws(SigningSessionRefusal) {
            do throws(SigningRefusal) {
                try ClockSynchronisation.check(synchronised: environment.clockSynchronised(), tolerance: settings.clock)
            } catch { throw SigningSessionRefusal(error) }
            do throws(SessionTokenFailure) {
                token = try await tokens.open(reader: request.reader, key: request.key, pin: pin, confirmLastTry: request.confirmLastTry)
            } catch { throw SigningSessionRefusal(error) }
            let chain = token.signer.certificateChain
            let standing = await environment.checkCertificate(chain)
            switch SignerCheck.decide(role: request.role, certificate: chain[0], leaders: settings.leaders, agency: settings.agency,
                                      revocation: standing.revocation, requireRevocation: settings.requireRevocation, now: environment.now()) {
            case .allowed(var allowed):
                // Another leader's token, although that leader may sign: refused before any PIN is
                // used, as the rules' refusals are (the console's lãnh đạo signs with their own only).
                if let expected = request.expectedIdentity,
                   !allowed.signer.identifiers.contains(where: { $0.description == expected }) {
                    token.close()
                    throw SigningSessionRefusal(
                        code: "not_your_token",
                        message: "token này là của \(allowed.signer.displayName) (\(allowed.signer.identifier)), không phải của bạn (\(expected)) — hãy cắm token của chính bạn / this token is \(allowed.signer.displayName)'s (\(allowed.signer.identifier)), not yours (\(expected)): plug in your own token")
                }
                // The rules' refusals come first (they say more: the wrong token, expired); then the chain.
                if let refusal = standing.refusal {
                    token.close()
                    throw SigningSessionRefusal(code: "certificate-chain", message: refusal)
                }
                allowed.warnings = standing.warnings + allowed.warnings
                authorization = allowed
            case .refused(let refusal):
                token.close()
                throw SigningSessionRefusal(refusal)
            }
        } catch {
            running = nil
            pin.wipe()
            logger.notice("signing session refused", metadata: ["role": "\(request.role.rawValue)", "code": "\(error.code)", "by": "\(request.openedBy)"])
            throw error
        }
        let documents: [DocumentRecord]
        do {
            documents = try chosenDocuments(request)
        } catch {
            running = nil
            token.close()
            pin.wipe()
            throw SigningSessionRefusal(code: "store", message: "\(error)")
        }
        let status = SigningSessionStatus(
            id: id, role: request.role, phase: .signing, signer: authorization.signer.displayName,
            identity: authorization.signer.identifier.description, token: token.location, openedBy: request.openedBy,
            startedAt: environment.now(), finishedAt: nil, total: documents.count, progress: nil, results: [], stopCode: nil,
            stopMessage: nil, warnings: authorization.warnings)
        sessions[id] = status
        logger.notice("signing session opened", metadata: [
            "session": "\(id)", "role": "\(request.role.rawValue)", "signer": "\(status.signer)", "identity": "\(status.identity)",
            "documents": "\(documents.count)", "by": "\(request.openedBy)",
        ])
        let deadline = ContinuousClock.now + settings.sessionTimeout
        Task { await self.run(id, documents: documents, token: token, authorization: authorization, pin: pin, deadline: deadline) }
        return status
    }

    /// The documents named (in that order) or every one waiting for the role, oldest first.
    private func chosenDocuments(_ request: SigningSessionRequest) throws -> [DocumentRecord] {
        if request.documents.isEmpty {
            return try store.waiting(in: request.role == .leader ? .awaitingLeader : .awaitingSeal)
        }
        var chosen: [DocumentRecord] = []
        for id in request.documents where !chosen.contains(where: { $0.id == id }) {
            guard let record = try store.document(id) else {
                throw SigningSessionRefusal(code: "no_document", message: "không có văn bản / no document \(id)")
            }
            chosen.append(record)
        }
        return chosen
    }

    // MARK: Following

    package func status(_ id: String) -> SigningSessionStatus? { sessions[id] }

    /// The status once it has more than `seen` results or has ended (a long poll for progress),
    /// or as it is at `deadline`.
    package nonisolated func status(_ id: String, after seen: Int, until deadline: ContinuousClock.Instant) async -> SigningSessionStatus? {
        while true {
            let generation = progress.generation
            guard let status = await status(id) else { return nil }
            if status.results.count > seen || status.phase != .signing || ContinuousClock.now >= deadline { return status }
            await progress.wait(after: generation, until: deadline)
        }
    }

    // MARK: The batch

    private func run(_ id: String, documents: [DocumentRecord], token: any SessionToken, authorization: SigningAuthorization,
                     pin: SessionPIN, deadline: ContinuousClock.Instant) async {
        defer {
            token.close()
            pin.wipe()
            running = nil
            progress.notify()
        }
        if authorization.role == .organization {
            for sealed in (try? store.sealedNotQueued()) ?? [] {
                if let failure = await queueSealed(sealed, signer: token.signer) {
                    stop(id, code: failure.code, message: failure.description, remaining: documents[...])
                    return
                }
            }
        }
        for (index, document) in documents.enumerated() {
            if ContinuousClock.now >= deadline {
                stop(id, code: "time_limit", message: "phiên ký quá \(settings.sessionTimeout) — mở phiên mới để ký tiếp / the session reached its \(settings.sessionTimeout) limit: open a new one to go on",
                     remaining: documents[index...])
                return
            }
            update(id) { $0.progress = "văn bản \(index + 1)/\(documents.count) — \(document.metadata.subject ?? document.fileName)" }
            let result: SigningSessionStatus.DocumentResult
            do {
                result = try await sign(document, session: id, token: token, authorization: authorization)
            } catch let failure as SessionTokenFailure {
                stop(id, code: failure.code, message: failure.description, remaining: documents[index...])
                return
            } catch {
                stop(id, code: "token_error", message: "\(error)", remaining: documents[index...])
                return
            }
            update(id) { $0.results.append(result) }
            if result.outcome == .signed, authorization.role == .organization,
               let committed = try? store.document(result.document), committed.state == .signed,
               let failure = await queueSealed(committed, signer: token.signer) {
                stop(id, code: failure.code, message: failure.description, remaining: documents[(index + 1)...])
                return
            }
        }
        update(id) {
            $0.phase = .finished
            $0.progress = nil
            $0.finishedAt = environment.now()
        }
        logger.notice("signing session finished", metadata: ["session": "\(id)", "signed": "\(sessions[id]?.results.filter { $0.outcome == .signed }.count ?? 0)"])
    }

    private func stop(_ id: String, code: String, message: String, remaining: ArraySlice<DocumentRecord>) {
        update(id) { status in
            status.phase = .stopped
            status.progress = nil
            status.stopCode = code
            status.stopMessage = message
            status.finishedAt = environment.now()
            for document in remaining {
                status.results.append(.init(document: document.id, subject: document.metadata.subject, outcome: .notSigned,
                                            message: message, number: nil, state: document.state))
            }
        }
        logger.notice("signing session stopped", metadata: ["session": "\(id)", "code": "\(code)"])
    }

    private func update(_ id: String, _ change: (inout SigningSessionStatus) -> Void) {
        guard var status = sessions[id] else { return }
        change(&status)
        sessions[id] = status
        if status.phase != .signing, !finishedOrder.contains(id) {
            finishedOrder.append(id)
            while finishedOrder.count > Self.keptSessions { sessions[finishedOrder.removeFirst()] = nil }
        }
        progress.notify()
    }

    // MARK: One document

    /// Signs one document in the session's role. Throws only what ends the session (the
    /// token's failures); anything about this document is its result.
    private func sign(_ listed: DocumentRecord, session: String, token: any SessionToken,
                      authorization: SigningAuthorization) async throws -> SigningSessionStatus.DocumentResult {
        let role = authorization.role
        func refused(_ message: String, state: DocumentState?) -> SigningSessionStatus.DocumentResult {
            .init(document: listed.id, subject: listed.metadata.subject, outcome: .refused, message: message, number: nil, state: state)
        }
        let record: DocumentRecord
        let done: [SigningRole]
        do {
            guard let current = try store.document(listed.id) else { return refused("không còn văn bản / the document is gone", state: nil) }
            record = current
            done = try store.signatures(record.id).map(\.role)
        } catch {
            return refused("\(error)", state: listed.state)
        }
        let flow: SigningFlow
        do throws(SigningRefusal) {
            flow = try record.metadata.signingFlow(done: done)
            try flow.check(role)
        } catch {
            return refused(error.message, state: record.state)
        }
        guard record.state == DocumentState(flow.state) else {
            return refused("văn bản đang ở trạng thái \(record.state.rawValue), không chờ ký / the document is \(record.state.rawValue), not waiting for a signature",
                           state: record.state)
        }
        let source = store.layout.objectPath(record.id, version: record.version)
        guard FileSigning.isPDF(path: source) else {
            return refused(DocumentStore.notAPDFReason, state: record.state)
        }
        let now = environment.now()
        var number: RegisterNumber?
        if role == .organization {
            do {
                number = try store.assignNumber(record.id, numbering: settings.numbering, defaultNotation: settings.defaultNotation, at: now)
            } catch {
                return refused("\(error)", state: record.state)
            }
            // Before the seal, which is the commit that makes the document `signed` (AttachmentSigning.swift).
            if let problem = try await signAttachments(of: record, number: number, session: session, token: token,
                                                       authorization: authorization, at: now) {
                return refused(problem, state: record.state)
            }
        }
        let output = store.signingTemporaryPath(record.id, version: record.version + 1)
        do {
            try await signPDF(source: source, output: output, metadata: record.metadata, authorization: authorization, signer: token.signer,
                              number: number, at: now)
        } catch {
            POSIXFile.unlinkIfPresent(output)
            if let failure = error as? SessionTokenFailure { throw failure }
            // The document's own problem (it does not parse, its appearance cannot be drawn): it is
            // marked with the reason for the clerk, and the batch goes on.
            let reason = "không ký được văn bản này / this document could not be signed: \(error)"
            try? store.mark(record.id, reason: reason, cause: "phiên ký / signing session \(session): \(reason)", at: environment.now())
            return refused(reason, state: record.state)
        }
        let signer = token.signer
        let next: DocumentState
        do throws(SigningRefusal) { next = DocumentState(try flow.after(role).state) } catch { return refused(error.message, state: record.state) }
        let committed: DocumentRecord
        do {
            let digest = try POSIXFile.sha256(ofFile: output, sync: true)
            let certificate = signer.certificateChain[0]
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            let signature = SignatureRecord(
                documentId: record.id, role: role, signer: authorization.signer.displayName,
                identity: authorization.signer.identifier.description,
                certificateSha256: SHA256.hash(data: serializer.serializedBytes).map { String(format: "%02x", $0) }.joined(),
                revocation: authorization.revocation.word, session: session, token: token.location, signedAt: now)
            let what = role == .leader
                ? "ký bởi lãnh đạo / signed by the leader \(authorization.signer.displayName) (\(authorization.signer.identifier))"
                : "đóng dấu, ký số của cơ quan / sealed by the organization \(authorization.signer.displayName) (\(authorization.signer.identifier))"
                    + (number.map { ", số \($0.reference)" } ?? "")
            committed = try store.commitSignature(SignedVersion(
                document: record.id, fromVersion: record.version, fromState: record.state, temporaryPath: output,
                sha256: digest.sha256, size: digest.size, signature: signature, nextState: next,
                cause: "\(what); phiên / session \(session), token \(token.location), thu hồi / revocation: \(authorization.revocation.word)"),
                at: environment.now())
        } catch {
            POSIXFile.unlinkIfPresent(output)
            return refused("\(error)", state: record.state)
        }
        return .init(document: record.id, subject: record.metadata.subject, outcome: .signed, message: nil,
                     number: number?.reference, state: committed.state)
    }

    /// The envelope of a sealed document, signed by the same token (no second PIN) and queued.
    /// A token failure is returned to end the session (the document stays `signed` and the next
    /// seal session queues it); another failure (disk) leaves it `signed` for the next session.
    private func queueSealed(_ document: DocumentRecord, signer: any Signer) async -> SessionTokenFailure? {
        guard let afterSeal else { return nil }
        do {
            try await afterSeal(document, signer)
        } catch let failure as SessionTokenFailure {
            return failure
        } catch {
            logger.warning("sealed document not queued; the next seal session will", metadata: ["document.id": "\(document.id)", "error": "\(error)"])
        }
        return nil
    }
}

import DurableFiles
import DocumentModel
import EdXML
import Foundation
import ServiceLifecycle

/// The statuses the clerks send about incoming documents (03 registered … 06 done, 02 refused):
/// recorded durably when the local API asks (`record`), then sent in order, retried with the
/// relay's backoff while the link is down.
package final class ClerkStatusService: Service, Sendable {
    /// Why a clerk's status was not recorded (the local API's 4xx).
    package enum Refusal: Error, Sendable {
        case noSuchDocument(Int64)
        case notAllowed(String)
        case reasonRequired
        case cannotBuild(String)
    }

    /// The codes a clerk may send (QCVN 102): 01 is the box's own, 13–16 are the sender's side.
    package static let codes: [StatusCode] = [.refused, .accepted, .assigned, .inProgress, .finished]

    let context: RelayContext
    /// Wakes the loop when a clerk records a status (not the store's signal, which fires twice
    /// per delivery and would make the loop re-read its table each time).
    private let recorded = ChangeSignal()

    package init(context: RelayContext) { self.context = context }

    /// Records a clerk's status about incoming document `hubID`: the status package is built from
    /// the document's header, XML-signed with the box's key, written and fsynced under
    /// `store/inbox/`, then its row is committed;
    /// the loop sends it. Once this returns, the status will reach the hub.
    package func record(hubID: Int64, code: String, description: String?, staff: String?) async throws(Refusal) -> OutgoingStatusRecord {
        let store = context.store
        guard let statusCode = StatusCode(rawValue: code), Self.codes.contains(statusCode) else { throw .notAllowed(code) }
        let description = StatusAnswer.trimmed(description)
        if statusCode == .refused && description == nil { throw .reasonRequired }
        guard let record = try? store.inbound(hubID: hubID), record.packageKind == .document else { throw .noSuchDocument(hubID) }
        let now = context.now()
        let path = store.layout.inboxDirectory + "/\(hubID).status-\(code)-\(Int(now.timeIntervalSince1970 * 1000)).edxml"
        let status: StatusPackage
        do {
            guard case .document(let original) = try await PackageReader.read(path: store.layout.inboxPath(hubID: hubID)).package else {
                throw Refusal.noSuchDocument(hubID)
            }
            status = StatusAnswer(settings: context.settings).answering(original.header, code: statusCode, description: description ?? statusCode.name,
                                                                       staff: StatusAnswer.trimmed(staff), at: now)
            // The box's key: the clerk records the status on the box but signs nothing (no token,
            // no PIN for a status); the box vouches that it comes from this commune.
            try await PackageWriter.write(status, to: path, signer: context.boxSigner)
            _ = try POSIXFile.sha256(ofFile: path, sync: true)
            try POSIXFile.fsyncDirectory(store.layout.inboxDirectory)
            let saved = try store.addOutgoingStatus(OutgoingStatusRecord(
                seq: nil, hubID: hubID, statusCode: code, description: status.description, staff: status.staffInfo?.staff,
                packageFile: (path as NSString).lastPathComponent, packageKey: StatusAnswer.key(status), createdAt: now,
                sentAt: nil, receipt: nil, lastError: nil, refused: false))
            recorded.notify()
            return saved
        } catch let refusal as Refusal {
            throw refusal
        } catch {
            POSIXFile.unlinkIfPresent(path)
            throw .cannotBuild("\(error)")
        }
    }

    package func run() async {
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                let seen = self.recorded.generation
                let retryAt = await self.sendPending(failures: &failures)
                await self.recorded.wait(after: seen, until: retryAt.map(self.context.instant))
            }
        }
    }

    /// Sends what is unsent, in order; stops at the first failure the hub may take later and
    /// returns when to try again (nil: nothing waits). A refusal marks that status refused and
    /// goes on with the next.
    package func sendPending(failures: inout Int) async -> Date? {
        let store = context.store, logger = context.logger
        for var pending in (try? store.unsentOutgoingStatuses()) ?? [] where !Task.isCancelled {
            do throws(RelayError) {
                let path = store.layout.inboxDirectory + "/" + pending.packageFile
                let digest: (sha256: String, size: Int64)
                do { digest = try POSIXFile.sha256(ofFile: path, sync: false) } catch { throw RelayError.store(error) }
                let (der, _) = try await context.submitAndVerify(
                    .init(path: path, key: pending.packageKey, sha256: digest.sha256, size: digest.size), worker: .express)
                pending.sentAt = context.now()
                pending.receipt = Data(der)
                pending.lastError = nil
                do { try store.saveOutgoingStatus(pending) } catch { throw RelayError.store(error) }
                failures = 0
                logger.notice("clerk's status sent", metadata: ["hub.id": "\(pending.hubID)", "status": "\(pending.statusCode)"])
            } catch {
                pending.lastError = error.message
                let decision = context.attemptFailed(error, failuresBefore: failures)
                pending.refused = decision == .reject
                try? store.saveOutgoingStatus(pending)
                logger.warning("clerk's status not sent", metadata: ["hub.id": "\(pending.hubID)", "error": "\(error)"])
                if case .retry(let count, _, let at) = decision {
                    failures = count
                    return at
                }
            }
        }
        return nil
    }
}

/// Status packages this commune answers documents with (01 by the box, the others by clerks).
struct StatusAnswer {
    let settings: RelayService.Settings

    /// A status package answering a document with `header`, from this commune.
    func answering(_ header: MessageHeader, code: StatusCode, description: String?, staff: String?, at date: Date) -> StatusPackage {
        StatusPackage(
            from: Organization(organId: settings.agencyCode.description, organName: settings.agencyName),
            responseFor: ResponseFor(organId: header.from.organId, code: header.code.description, promulgationDate: header.promulgationInfo.date,
                                     documentId: header.documentId),
            staffInfo: staff.map { StaffInfo(staff: $0) }, statusCode: code, description: description,
            timestamp: EdXMLTimestamp(date).description)
    }

    static func trimmed(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text
    }

    /// The hub's key for a status package (docs/protocol.md).
    static func key(_ status: StatusPackage) -> String {
        "status:\(status.from.organId)|\(status.responseFor.documentId ?? status.responseFor.code ?? "")|\(status.statusCode.rawValue)|\(status.timestamp)"
    }
}

import DocumentModel
import Foundation

/// Drives the tus exchange for one large package (`TusUpload` decides, this does the I/O), from
/// wherever its upload stands; the upload's path is saved with the document as it changes, so a
/// crash or a broken link resumes rather than restarts.
struct TusDriver {
    let context: RelayContext
    let worker: UploadWorker

    /// `auditHead` goes with the upload's creation: an upload resumed after a restart keeps the
    /// anchor it was created with (an older entry of the same chain, just as good a witness).
    func upload(_ outbound: inout OutboundRecord, file: String, auditHead: AuditAnchor?) async throws(RelayError) -> [UInt8] {
        let hub = context.hub
        var machine = TusUpload(length: outbound.packageSize, uploadPath: outbound.uploadPath)
        while true {
            switch machine.nextAction {
            case .create(let length):
                let path = try await hub.createUpload(length: length, key: outbound.packageKey, sha256: outbound.packageSHA256,
                                                      auditHead: auditHead, worker: worker)
                machine.created(location: path)
                outbound.uploadPath = path
                saveProgress(outbound)
            case .probe(let path):
                switch try await hub.probeUpload(path, worker: worker) {
                case .gone:
                    machine.lost()
                    outbound.uploadPath = nil
                    saveProgress(outbound)
                case .offset(let offset, let length):
                    let progress: TusUpload.Progress
                    do { progress = try machine.probed(offset: offset, length: length) } catch { throw RelayError.protocolViolation(error.description) }
                    if case .stalled(let at) = progress {
                        throw RelayError(kind: .transient, code: .noProgress, vi: "Tải lên không tiến triển (dừng ở byte \(at))",
                                         en: "The upload makes no progress (stuck at byte \(at))")
                    }
                }
            case .send(let path, let offset):
                let result: HubPatchResult
                do {
                    result = try await hub.patchUpload(path, file: file, offset: offset, length: outbound.packageSize, worker: worker)
                } catch {
                    if error.kind == .permanent { throw error }
                    // Bytes before the break are kept by the hub: ask where to go on (at once).
                    context.logger.info("upload interrupted, resuming", metadata: ["document.id": "\(outbound.documentId)", "error": "\(error)"])
                    machine.interrupted()
                    continue
                }
                switch result {
                case .accepted(let offset, let receiptPath):
                    do { try machine.sent(newOffset: offset, receiptPath: receiptPath) } catch { throw RelayError.protocolViolation(error.description) }
                case .offsetMismatch:
                    machine.interrupted()
                case .gone:
                    machine.lost()
                    outbound.uploadPath = nil
                    saveProgress(outbound)
                }
            case .fetchReceipt(let path):
                return try await hub.fetchReceipt(path, worker: worker)
            }
        }
    }

    func saveProgress(_ outbound: OutboundRecord) {
        do { try context.store.updateOutbound(outbound) } catch {
            context.logger.error("could not save upload progress", metadata: ["document.id": "\(outbound.documentId)", "error": "\(error)"])
        }
    }
}

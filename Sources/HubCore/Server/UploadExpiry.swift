import Foundation
import Logging
import ServiceLifecycle

/// Deletes tus uploads that have been silent longer than `limits.upload_expiry_hours` (the tus
/// expiration extension; `HubStore.expireUploads`): once at start, then every hour. Boxes are
/// told the time in `Upload-Expires`; a box that comes back later gets 404 and starts its upload
/// again, and the package key keeps that from ever storing a document twice.
struct UploadExpiry: Service {
    let store: HubStore
    let expiry: Duration
    let logger: Logger
    var interval: Duration = .seconds(3600)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await expireOnce()
                try? await Task.sleep(for: interval)
            }
        }
    }

    func expireOnce() async {
        let cutoff = Date().addingTimeInterval(-TimeInterval(expiry.components.seconds))
        do {
            let (uploads, bytes) = try await store.expireUploads(before: cutoff)
            if uploads > 0 {
                logger.notice("expired uploads deleted", metadata: ["uploads": "\(uploads)", "bytes": "\(bytes)"])
            }
        } catch {
            logger.error("could not expire uploads", metadata: ["error": "\(error)"])
        }
    }
}

// The document pages' shared parts: what they work on, their routes (one block, added to the
// router by ConsoleServer), who may act, file downloads, and the page of one document.
import DocumentModel
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix
import TimeJSON

/// What the document pages work on: the store, the intake checks shared with the local API, the
/// relay (nil without `[upstream]`: no inbox actions), and the inbox folder the relay places
/// incoming documents in.
package struct ConsoleDocuments: Sendable {
    /// Records a clerk's status about an incoming document for the relay to send (hub number,
    /// code, description, staff): `RelayService.recordClerkStatus`, the local API's own.
    typealias StatusRecorder = @Sendable (Int64, String, String?, String?) async throws(RelayService.ClerkStatusRefusal) -> Void

    let store: DocumentStore
    let intake: DocumentIntake
    /// nil without `[upstream]`: no status can be sent.
    let recordStatus: StatusRecorder?
    let inboxFolder: String?

    package init(store: DocumentStore, intake: DocumentIntake, relay: RelayService?, inboxFolder: String?) {
        var recorder: StatusRecorder?
        if let relay {
            recorder = { hubID, code, description, staff throws(RelayService.ClerkStatusRefusal) in
                _ = try await relay.recordClerkStatus(hubID: hubID, code: code, description: description, staff: staff)
            }
        }
        self.init(store: store, intake: intake, recordStatus: recorder, inboxFolder: inboxFolder)
    }

    init(store: DocumentStore, intake: DocumentIntake, recordStatus: StatusRecorder?, inboxFolder: String?) {
        (self.store, self.intake, self.recordStatus, self.inboxFolder) = (store, intake, recordStatus, inboxFolder)
    }
}

extension ConsoleServer {
    func addDocumentRoutes(_ router: Router<ConsoleContext>) {
        // Every person may look; only a văn thư (or quản trị) acts, checked by `clerk(_:)`.
        route(router, .get, "/outbox", .session(nil), outboxPage)
        route(router, .get, "/outbox/new", .session(nil), uploadPage)
        route(router, .post, "/outbox/new", .session(nil), multipart: true, upload)
        route(router, .get, "/documents/{id}", .session(nil), documentPage)
        route(router, .get, "/documents/{id}/file", .session(nil), documentFile)
        route(router, .get, "/documents/{id}/attachments/{position}", .session(nil), attachmentFile)
        route(router, .get, "/documents/{id}/receipt", .session(nil), receiptFile)
        route(router, .post, "/documents/{id}/withdraw", .session(nil), withdraw)
        route(router, .post, "/documents/{id}/replace", .session(nil), multipart: true, replace)
        route(router, .get, "/inbox", .session(nil), inboxPage)
        route(router, .get, "/inbox/{hub}", .session(nil), inboxItemPage)
        route(router, .get, "/inbox/{hub}/files/{name}", .session(nil), inboxFile)
        route(router, .post, "/inbox/{hub}/status", .session(nil), inboxStatus)
    }

    /// A văn thư or quản trị acts; a lãnh đạo is refused (audited, nothing changed).
    func clerk(_ visit: Visit, action: String) throws -> Response? {
        guard let user = visit.page.viewer?.user else { return refusal(.forbidden, .loginRequired, visit) }
        guard user.role == .vanThu || user.role == .quanTri else {
            try accounts.audit(ConsoleAuditEntry(at: now(), actor: user.login, action: "\(action)_refused", subject: visit.page.path,
                                                 address: visit.address, detail: "role"))
            return refusal(.forbidden, .forbidden, visit)
        }
        return nil
    }

    func audit(_ visit: Visit, _ action: String, subject: String?, detail: String? = nil) throws {
        try accounts.audit(ConsoleAuditEntry(at: now(), actor: visit.page.viewer?.user.login ?? "?", action: action, subject: subject,
                                             address: visit.address, detail: detail))
    }

    /// The `index`th segment of the path (`/documents/{id}/file`: 1 is the id), percent-decoded.
    static func pathPart(_ visit: Visit, _ index: Int) -> String {
        let parts = visit.page.path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count > index else { return "" }
        return String(parts[index]).removingPercentEncoding ?? ""
    }

    static func documentID(_ visit: Visit) -> DocumentID? { DocumentID(pathPart(visit, 1)) }

    /// A stored file for the browser: a PDF shown inline when asked (to print it), anything else
    /// only as a download (a file from outside is never rendered as a page of the console).
    static func file(path: String, name: String, inline: Bool) throws -> Response {
        // Streamed a quarter of a megabyte at a time, read on the thread pool (a document may be
        // 100 MB; the event loop must not wait on the disk).
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CocoaError(.fileReadNoSuchFile) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            close(descriptor)
            throw CocoaError(.fileReadUnknown)
        }
        let size = Int(status.st_size)
        let body = ResponseBody(contentLength: size) { writer in
            defer { close(descriptor) }
            var offset = 0
            while offset < size {
                let start = offset
                let chunk = try await NIOThreadPool.singleton.runIfActive { () throws -> [UInt8] in
                    var bytes = [UInt8](repeating: 0, count: min(256 * 1024, size - start))
                    let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(start)) }
                    guard count > 0 else { throw CocoaError(.fileReadUnknown) }
                    return Array(bytes.prefix(count))
                }
                offset += chunk.count
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
        let isPDF = name.lowercased().hasSuffix(".pdf")
        var headers: HTTPFields = [
            .contentType: isPDF ? "application/pdf" : "application/octet-stream",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            .cacheControl: "no-store",
        ]
        let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "file"
        let ascii = String(name.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 0x20 ? Character($0) : "_" })
        headers[.contentDisposition] = "\(inline && isPDF ? "inline" : "attachment"); filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `dd/MM/yyyy HH:mm` in Vietnam's time.
    static func date(_ date: Date) -> String {
        let t = VietnamTime(date)
        return String(format: "%02d/%02d/%04d %02d:%02d", t.day, t.month, t.year, t.hour, t.minute)
    }

    static func size(_ bytes: Int64) -> String {
        bytes >= 1_048_576 ? String(format: "%.1f MB", Double(bytes) / 1_048_576) : bytes >= 1024 ? "\(bytes / 1024) KB" : "\(bytes) B"
    }

    // MARK: the document page

    func documentPage(_ visit: Visit) async throws -> Response {
        guard let documents, let id = Self.documentID(visit), let document = try documents.store.document(id) else {
            return refusal(.notFound, .noSuchDocument, visit)
        }
        let attachments = try documents.store.attachments(id)
        let history = try documents.store.history(id)
        let signatures = try documents.store.signatures(id)
        let receipt = try documents.store.outbound(id)?.receipt
        let metadata = document.metadata
        var notice: HTML = ""
        switch visit.query["done"] {
        case "upload": notice = Layout.notice(visit.t(.uploadDone), error: false)
        case "withdraw": notice = Layout.notice(visit.t(.withdrawDone), error: false)
        case "replace": notice = Layout.notice(visit.t(.replaceDone), error: false)
        default: break
        }
        let rows: [HTML] = [
            "<tr><th>\(visit.t(.subject))</th><td>\(metadata.subject)</td></tr>",
            "<tr><th>\(visit.t(Phrase.number))/\(visit.t(.notation))</th><td>\(metadata.number)/\(metadata.notation)</td></tr>",
            "<tr><th>\(visit.t(.documentType))</th><td>\(metadata.documentType)</td></tr>",
            "<tr><th>\(visit.t(.priority))</th><td>\(metadata.priority.vietnameseName)</td></tr>",
            "<tr><th>\(visit.t(.recipients))</th><td>\(metadata.recipients.map(\.description).joined(separator: "; "))</td></tr>",
            "<tr><th>\(visit.t(.signaturesNeeded))</th><td>\(metadata.requiredSignatures.map(\.rawValue).joined(separator: ", "))</td></tr>",
            "<tr><th>\(visit.t(.file))</th><td><a href=\"/documents/\(id.description)/file\">\(document.fileName)</a> (\(Self.size(document.size)), \(visit.t(.version)) \(document.version)) · <a href=\"/documents/\(id.description)/file?inline=1\">\(visit.t(.printHint))</a></td></tr>",
            "<tr><th>\(visit.t(.receivedAt))</th><td>\(Self.date(document.receivedAt))</td></tr>",
        ]
        var more: [HTML] = []
        if let number = document.registerNumber { more.append("<tr><th>\(visit.t(.registerNumber))</th><td>\(String(describing: number))</td></tr>") }
        if let reason = document.stateReason { more.append("<tr><th>\(visit.t(.stateReason))</th><td>\(reason)</td></tr>") }
        let attachmentRows = attachments.map { attachment -> HTML in
            "<li><a href=\"/documents/\(id.description)/attachments/\(attachment.position)\">\(attachment.fileName)</a> (\(Self.size(attachment.size)))</li>"
        }
        let signatureRows = signatures.map { signature -> HTML in
            "<tr><td>\(signature.role.rawValue)</td><td>\(signature.signer)</td><td>\(Self.date(signature.signedAt))</td></tr>"
        }
        let historyRows = history.map { step -> HTML in
            "<tr><td>\(Self.date(step.at))</td><td>\(step.fromState.map { visit.t($0.phrase) }) → \(visit.t(step.toState.phrase))</td><td>\(step.cause)</td></tr>"
        }
        // Each conditional piece typed as HTML: a String there would be escaped, as it should.
        let attachmentList: HTML = attachmentRows.isEmpty ? "" : "<h2>\(visit.t(.attachmentsField))</h2><ul>\(attachmentRows)</ul>"
        let signatureList: HTML = signatureRows.isEmpty ? "" : "<h2>\(visit.t(.signaturesMade))</h2><table>\(signatureRows)</table>"
        let receiptLink: HTML = receipt == nil ? "" : "<p><a href=\"/documents/\(id.description)/receipt\">\(visit.t(.receipt))</a></p>"
        var actions: [HTML] = []
        if let viewer = visit.page.viewer, viewer.user.role != .lanhDao, document.state.isBeforeSigning {
            actions.append("""
                <form method="post" action="/documents/\(id.description)/withdraw" class="inline">\(Layout.csrfField(viewer.csrf))\
                <button type="submit">\(visit.t(.withdraw))</button></form>
                """)
            if signatures.isEmpty {
                actions.append("""
                    <form method="post" action="/documents/\(id.description)/replace?csrf=\(viewer.csrf)" enctype="multipart/form-data" class="inline">\
                    <input type="file" name="file" required> <button type="submit">\(visit.t(.replaceFile))</button></form>
                    """)
            }
        }
        let body: HTML = """
            \(notice)
            <p><strong>\(visit.t(document.state.phrase))</strong>\(Self.advice(document.state, visit))</p>
            <table>\(rows)\(more)</table>
            <p>\(HTML.join(actions, separator: " "))</p>
            \(attachmentList)
            \(signatureList)
            \(receiptLink)
            <h2>\(visit.t(.history))</h2>
            <table><tr><th>\(visit.t(.when))</th><th>\(visit.t(.what))</th><th>\(visit.t(.stateReason))</th></tr>\(historyRows)</table>
            """
        return Self.page(Layout.page(title: "\(visit.t(Phrase.document)) \(id.description)", body, visit.page))
    }

    /// What a clerk does about a document that needs them.
    static func advice(_ state: DocumentState, _ visit: Visit) -> HTML {
        let phrase: Phrase? = switch state {
        case .rejected: .adviceRejected
        case .quarantined: .adviceQuarantined
        case .returned: .adviceReturned
        default: nil
        }
        guard let phrase else { return "" }
        return " — \(visit.t(.whatToDo)): \(visit.t(phrase))"
    }

    func documentFile(_ visit: Visit) async throws -> Response {
        guard let documents, let id = Self.documentID(visit), let document = try documents.store.document(id) else {
            return refusal(.notFound, .noSuchDocument, visit)
        }
        return try Self.file(path: documents.store.layout.objectPath(id, version: document.version), name: document.fileName,
                             inline: visit.query["inline"] == "1")
    }

    func attachmentFile(_ visit: Visit) async throws -> Response {
        guard let documents, let id = Self.documentID(visit), let position = Int(Self.pathPart(visit, 3)),
              let attachment = try documents.store.attachments(id).first(where: { $0.position == position }) else {
            return refusal(.notFound, .noSuchDocument, visit)
        }
        return try Self.file(path: documents.store.layout.attachmentPath(id, position: position, version: attachment.version),
                             name: attachment.fileName, inline: false)
    }

    func receiptFile(_ visit: Visit) async throws -> Response {
        guard let documents, let id = Self.documentID(visit), let der = try documents.store.outbound(id)?.receipt else {
            return refusal(.notFound, .noSuchDocument, visit)
        }
        var headers: HTTPFields = [.contentType: "application/pkcs7-mime; smime-type=signed-data", .cacheControl: "no-store"]
        headers[.contentDisposition] = "attachment; filename=\"receipt-\(id.description).p7m\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: der)))
    }
}

extension DocumentState {
    var phrase: Phrase {
        switch self {
        case .received: .stateReceived
        case .awaitingLeader: .stateAwaitingLeader
        case .awaitingSeal: .stateAwaitingSeal
        case .returned: .stateReturned
        case .signed: .stateSigned
        case .queued: .stateQueued
        case .sending: .stateSending
        case .delivered: .stateDelivered
        case .withdrawn: .stateWithdrawn
        case .rejected: .stateRejected
        case .quarantined: .stateQuarantined
        }
    }
}

// Văn bản đi / Outbox: the documents by state with search and paging, the upload form (through
// the same checks as the local API's `POST /v1/documents`: `DocumentIntake`), withdrawing and
// replacing the file before signing.
import DocumentModel
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import NIOCore
import TimeJSON

extension ConsoleServer {
    /// The tabs, in a clerk's order of work; rejected and quarantined together (both need them).
    static let outboxTabs: [(key: String, states: [DocumentState], phrase: Phrase)] = [
        ("awaiting_leader", [.awaitingLeader], .stateAwaitingLeader), ("awaiting_seal", [.awaitingSeal], .stateAwaitingSeal),
        ("returned", [.returned], .stateReturned), ("queued", [.queued, .signed], .stateQueued), ("sending", [.sending], .stateSending),
        ("delivered", [.delivered], .stateDelivered), ("rejected", [.rejected, .quarantined], .stateRejected),
        ("withdrawn", [.withdrawn], .stateWithdrawn),
    ]
    static let outboxPageSize = 50
    /// File parts one form may carry: each holds a descriptor and staging space until the form
    /// is checked (the metadata's own limit on attachments, lower, is told in words after).
    static let uploadFileLimit = 32

    func outboxPage(_ visit: Visit) async throws -> Response {
        guard let documents else { return refusal(.notFound, .notFound, visit) }
        let query = visit.query
        let tab = Self.outboxTabs.first { $0.key == query["state"] }
        var search = DocumentSearch(states: tab?.states ?? [], limit: Self.outboxPageSize + 1)
        search.text = query["q"].map { String($0.trimmingCharacters(in: .whitespaces).prefix(200)) }
        search.recipient = query["recipient"].map { String($0.trimmingCharacters(in: .whitespaces).prefix(200)) }
        search.from = query["from"].flatMap(Self.day)
        search.to = query["to"].flatMap(Self.day).map { $0.addingTimeInterval(86400) }
        search.before = query["before"].flatMap(DocumentID.init)
        var found = try documents.store.search(search)
        let more = found.count > Self.outboxPageSize
        if more { found.removeLast() }

        func link(_ changes: [String: String?]) -> String {
            var fields: [String: String] = [:]
            for key in ["state", "q", "recipient", "from", "to"] { if let value = query[key], !value.isEmpty { fields[key] = value } }
            for (key, value) in changes { fields[key] = value }
            let text = fields.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
            return "/outbox" + (text.isEmpty ? "" : "?" + text)
        }
        var tabs: [HTML] = ["<a href=\"\(link(["state": nil, "before": nil]))\"\(tab == nil ? HTML(" class=\"on\"") : "")>\(visit.t(.allStates))</a>"]
        for each in Self.outboxTabs {
            tabs.append("<a href=\"\(link(["state": each.key, "before": nil]))\"\(tab?.key == each.key ? HTML(" class=\"on\"") : "")>\(visit.t(each.phrase))</a>")
        }
        let rows = found.map { document -> HTML in
            let reason: HTML = document.stateReason.map { "<br><small>\(visit.t(.stateReason)): \($0)</small>\(Self.advice(document.state, visit))" } ?? ""
            return """
                <tr><td><a href="/documents/\(document.id.description)">\(document.metadata.number ?? "—")/\(document.metadata.notation ?? "")</a></td>\
                <td>\(document.metadata.subject ?? document.fileName)</td>\
                <td>\(document.metadata.recipients.map(\.description).joined(separator: "; "))</td>\
                <td>\(Self.date(document.receivedAt))</td><td>\(visit.t(document.state.phrase))\(reason)</td></tr>
                """
        }
        var paging: [HTML] = []
        if search.before != nil { paging.append("<a href=\"\(link(["before": nil]))\">\(visit.t(.firstPage))</a>") }
        if more, let last = found.last { paging.append("<a href=\"\(link(["before": last.id.description]))\">\(visit.t(.olderPage))</a>") }
        let canUpload = visit.page.viewer.map { $0.user.role != .lanhDao } ?? false
        // Each conditional piece typed as HTML: a String there would be escaped, as it should.
        let uploadLink: HTML = canUpload ? "<p><a class=\"button\" href=\"/outbox/new\">\(visit.t(.upload))</a></p>" : ""
        let tabField: HTML = tab.map { "<input type=\"hidden\" name=\"state\" value=\"\($0.key)\">" } ?? ""
        let table: HTML = rows.isEmpty ? "<p>\(visit.t(.noDocuments))</p>" : """
            <table><tr><th>\(visit.t(Phrase.number))/\(visit.t(.notation))</th><th>\(visit.t(.subject))</th><th>\(visit.t(.recipients))</th>\
            <th>\(visit.t(.receivedAt))</th><th>\(visit.t(Phrase.state))</th></tr>\(rows)</table>
            """
        let body: HTML = """
            \(uploadLink)
            <nav class="tabs">\(HTML.join(tabs, separator: " · "))</nav>
            <form method="get" action="/outbox" class="search">\
            \(tabField)\
            <label>\(visit.t(.search)) <input name="q" value="\(query["q"])" maxlength="200" placeholder="\(visit.t(Phrase.number)), \(visit.t(.subject))"></label>
            <label>\(visit.t(.recipients)) <input name="recipient" value="\(query["recipient"])" maxlength="200"></label>
            <label>\(visit.t(.fromDate)) <input type="date" name="from" value="\(query["from"])"></label>
            <label>\(visit.t(.toDate)) <input type="date" name="to" value="\(query["to"])"></label>
            <button type="submit">\(visit.t(.search))</button></form>
            \(table)
            <p>\(HTML.join(paging, separator: " "))</p>
            """
        return Self.page(Layout.page(title: visit.t(.outbox), body, visit.page))
    }

    /// `yyyy-MM-dd` (an `<input type="date">`) as the start of that day in Vietnam.
    static func day(_ text: String) -> Date? { VietnamTime.startOfDay(text) }

    // MARK: upload

    func uploadPage(_ visit: Visit) async throws -> Response {
        if let refused = try clerk(visit, action: "upload") { return refused }
        return try Self.page(uploadForm(visit, fields: [:], error: nil))
    }

    /// The form, with what was typed when it comes back refused (escaped like every text).
    func uploadForm(_ visit: Visit, fields: [String: String], error: String?) throws -> HTML {
        let csrf = visit.page.viewer?.csrf ?? ""
        let directory = (try? documents?.store.directoryEntries()) ?? []
        let options = directory.map { entry -> HTML in "<option value=\"\(entry.code.description)\">\(entry.name)</option>" }
        let priorities = Priority.allCases.map { priority -> HTML in
            "<option value=\"\(priority.rawValue)\"\(fields["priority"] == String(priority.rawValue) ? HTML(" selected") : "")>\(priority.vietnameseName)</option>"
        }
        let signatureChoices: [(String, String)] = [("", visit.t(.signaturesDefault)), ("leader organization", "leader + organization"),
                                                    ("organization", "organization")]
        let signatures = signatureChoices.map { value, label -> HTML in
            "<option value=\"\(value)\"\(fields["signatures"] == value ? HTML(" selected") : "")>\(label)</option>"
        }
        let body: HTML = """
            \(Layout.notice(error))
            <form method="post" action="/outbox/new?csrf=\(csrf)" enctype="multipart/form-data" class="stack">
            <label>\(visit.t(.subject)) <input name="subject" required maxlength="500" value="\(fields["subject"])"></label>
            <label>\(visit.t(Phrase.number)) <input name="number" maxlength="11" value="\(fields["number"])"></label>
            <label>\(visit.t(.notation)) <input name="notation" maxlength="30" value="\(fields["notation"])"></label>
            <label>\(visit.t(.documentType)) <input name="document_type" maxlength="100" value="\(fields["document_type"])"></label>
            <label>\(visit.t(.priority)) <select name="priority">\(priorities)</select></label>
            <label>\(visit.t(.recipients)) <input name="recipients" list="agencies" value="\(fields["recipients"])"
             placeholder="\(visit.t(.recipientsHint))"></label><small>\(visit.t(.recipientsHint))</small>
            <datalist id="agencies">\(options)</datalist>
            <label>\(visit.t(.signaturesNeeded)) <select name="signatures">\(signatures)</select></label>
            <label>\(visit.t(.file)) <input type="file" name="file" required accept=".pdf,application/pdf"></label>
            <label>\(visit.t(.attachmentsField)) <input type="file" name="attachments" multiple></label>
            <button type="submit">\(visit.t(.submit))</button>
            </form>
            """
        return Layout.page(title: visit.t(.upload), body, visit.page)
    }

    /// A file part staged in the store as it streamed in.
    struct UploadedFile {
        var staged: StagedDocument
        var name: String
        var contentType: String?
    }

    /// What an upload form brought: its text fields and its files, already in the store's staging.
    struct UploadedForm {
        var fields: [String: String] = [:]
        var files: [String: [UploadedFile]] = [:]

        func discard() { for file in files.values.joined() { file.staged.discard() } }
    }

    enum UploadFailure: Error {
        case malformed
        case intake(IntakeError)
    }

    /// Streams a multipart body: text fields kept (64 KiB in all), each file part written to a new
    /// staged file as it arrives (`fileFields`: the names that take files, and whether the file is
    /// a document or an attachment). Nothing stays staged when it fails.
    func readUpload(_ visit: Visit, _ documents: ConsoleDocuments, fileFields: [String: Bool]) async throws(UploadFailure) -> UploadedForm {
        guard let upload = visit.upload, let boundary = MultipartParser.boundary(contentType: upload.contentType) else { throw .malformed }
        var parser = MultipartParser(boundary: boundary)
        var form = UploadedForm()
        enum Current { case text(String, [UInt8]), file(String, UploadedFile), skip }
        var current = Current.skip
        var textBytes = 0
        var fileCount = 0
        func close() {
            switch current {
            case .text(let name, let bytes): if form.fields[name] == nil { form.fields[name] = String(decoding: bytes, as: UTF8.self) }
            case .file(let name, let file): form.files[name, default: []].append(file)
            case .skip: break
            }
            current = .skip
        }
        // One iterator: a body can be read once, and after a refusal the rest is read from it.
        var chunks = upload.body.makeAsyncIterator()
        do {
            while let chunk = try await chunks.next() {
                try parser.feed(chunk.readableBytesView) { event in
                    switch event {
                    case .part(let part):
                        close()
                        if let isDocument = fileFields[part.name] {
                            // A file input left empty still sends a part, with no name and no bytes.
                            guard let name = part.fileName, !name.isEmpty else { return }
                            fileCount += 1
                            guard fileCount <= Self.uploadFileLimit else { throw MultipartError.malformed("more than \(Self.uploadFileLimit) files") }
                            let staged = isDocument ? try documents.store.beginDocument(expectedSize: nil) : try documents.intake.beginAttachment()
                            current = .file(part.name, UploadedFile(staged: staged, name: name, contentType: part.contentType))
                        } else if part.fileName == nil {
                            current = .text(part.name, [])
                        }
                    case .data(let bytes):
                        switch current {
                        case .text(let name, var text):
                            textBytes += bytes.count
                            guard textBytes <= Self.formLimit else { throw MultipartError.malformed("the form's text is over 64 KiB") }
                            text += bytes
                            current = .text(name, text)
                        case .file(_, let file):
                            var failure: IntakeError?
                            bytes.withUnsafeBytes { raw in
                                do throws(IntakeError) { try file.staged.append(raw) } catch { failure = error }
                            }
                            if let failure { throw failure }
                        case .skip: break
                        }
                    case .end:
                        close()
                    }
                }
            }
            try parser.finish()
        } catch {
            if case .file(_, let file) = current { file.staged.discard() }
            form.discard()
            // Read to the end, so that the browser sees the answer rather than a reset connection.
            do { while try await chunks.next() != nil {} } catch {}
            if let intake = error as? IntakeError { throw .intake(intake) }
            throw .malformed
        }
        return form
    }

    func upload(_ visit: Visit) async throws -> Response {
        if let refused = try clerk(visit, action: "upload") { return refused }
        guard let documents else { return refusal(.notFound, .notFound, visit) }
        let form: UploadedForm
        do { form = try await readUpload(visit, documents, fileFields: ["file": true, "attachments": false]) } catch {
            return try uploadRefused(visit, fields: [:], failure: error)
        }
        let fields = form.fields
        func text(_ name: String) -> String? {
            let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            return value.isEmpty ? nil : value
        }
        // Missing fields are told first, before any check of the files.
        var missing: Phrase?
        if text("subject") == nil { missing = .subjectRequired } else if form.files["file"]?.first == nil { missing = .fileRequired }
        if let missing {
            form.discard()
            try audit(visit, "upload_refused", subject: nil, detail: "\(missing)")
            return try Self.page(.badRequest, uploadForm(visit, fields: fields, error: "\(visit.t(.uploadRefused)) \(visit.t(missing))"))
        }
        let document = form.files["file"]![0]
        let attachments = form.files["attachments"] ?? []
        let extra = (form.files["file"] ?? []).dropFirst()
        for file in extra { file.staged.discard() }
        do throws(IntakeError) {
            // The same metadata the local API takes, built from the form, so the parser's checks
            // (lengths, codes, names from the directory, signatures) are the ones applied.
            var json: [String: Any] = ["file_name": document.name]
            for key in ["subject", "number", "notation", "document_type"] { if let value = text(key) { json[key] = value } }
            if let priority = text("priority") { json["priority"] = Int(priority) ?? priority }
            if let recipients = text("recipients") {
                json["recipients"] = recipients.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            if let signatures = text("signatures") { json["signatures"] = signatures.split(separator: " ").map(String.init) }
            if !attachments.isEmpty { json["attachments"] = attachments.map(\.name) }
            let bytes = (try? JSONSerialization.data(withJSONObject: json)).map(Array.init)
            let parsed = try documents.intake.parser.parse(bytes)
            let fileName = try DocumentIntake.fileName(of: parsed)
            for (index, attachment) in attachments.enumerated() {
                do throws(IntakeError) { try await documents.intake.checkAttachment(attachment.staged, name: parsed.metadata.attachmentNames[index],
                                                                                  contentType: attachment.contentType) }
                catch {
                    for other in attachments where other.staged !== attachment.staged { other.staged.discard() }
                    document.staged.discard()
                    throw error
                }
            }
            let login = visit.page.viewer?.user.login ?? "?"
            let request = IntakeRequest(fileName: fileName, metadata: parsed.metadata, source: .api, intakeKey: nil,
                                        cause: "tải lên trên bàn làm việc bởi \(login) / uploaded on the console by \(login) as \"\(fileName)\"")
            let receipt = try await documents.intake.admit(document.staged, contentType: document.contentType, request: request) { attachments.map(\.staged) }
            try? audit(visit, "upload", subject: receipt.document.id.description, detail: fileName)
            logger.info("document received on the console", metadata: ["document.id": "\(receipt.document.id)", "by": "\(login)"])
            return Self.redirect("/documents/\(receipt.document.id.description)?done=upload")
        } catch {
            document.staged.discard()
            for attachment in attachments { attachment.staged.discard() }
            return try uploadRefused(visit, fields: fields, failure: .intake(error))
        }
    }

    /// The form again with the reason, in the person's language, and nothing stored.
    func uploadRefused(_ visit: Visit, fields: [String: String], failure: UploadFailure) throws -> Response {
        let (status, message): (HTTPResponse.Status, String)
        switch failure {
        case .malformed:
            (status, message) = (.badRequest, visit.t(.malformedUpload))
        case .intake(let error) where error.code == .documentTooLarge:
            (status, message) = (.contentTooLarge, "\(visit.t(.tooLargeUpload)) (\(visit.language == .vi ? error.messageVi : error.messageEn))")
        case .intake(let error):
            let reason = visit.language == .vi ? error.messageVi : error.messageEn
            (status, message) = (HTTPResponse.Status(code: error.code.httpStatus), "\(visit.t(.uploadRefused)) \(reason)")
        }
        try audit(visit, "upload_refused", subject: nil, detail: {
            if case .intake(let error) = failure { return error.code.rawValue } else { return "malformed" }
        }())
        return try Self.page(status, uploadForm(visit, fields: fields, error: message))
    }

    // MARK: withdraw, replace

    func withdraw(_ visit: Visit) async throws -> Response {
        if let refused = try clerk(visit, action: "withdraw") { return refused }
        guard let documents, let id = Self.documentID(visit), try documents.store.document(id) != nil else {
            try audit(visit, "withdraw_refused", subject: visit.page.path, detail: "no such document")
            return refusal(.notFound, .noSuchDocument, visit)
        }
        let login = visit.page.viewer?.user.login ?? "?"
        do {
            try documents.store.act(on: id, to: .withdrawn, cause: "rút lại, không gửi / withdrawn, not sent (\(login), console)", at: now())
        } catch {
            try audit(visit, "withdraw_refused", subject: id.description, detail: "\(error)")
            return refusal(.conflict, .notNow, visit)
        }
        try audit(visit, "withdraw", subject: id.description)
        return Self.redirect("/documents/\(id.description)?done=withdraw")
    }

    func replace(_ visit: Visit) async throws -> Response {
        if let refused = try clerk(visit, action: "replace") { return refused }
        guard let documents, let id = Self.documentID(visit), let document = try documents.store.document(id) else {
            try audit(visit, "replace_refused", subject: visit.page.path, detail: "no such document")
            return refusal(.notFound, .noSuchDocument, visit)
        }
        let form: UploadedForm
        do { form = try await readUpload(visit, documents, fileFields: ["file": true]) } catch {
            let phrase: Phrase = if case .intake(let error) = error, error.code == .documentTooLarge { .tooLargeUpload } else { .malformedUpload }
            try audit(visit, "replace_refused", subject: id.description, detail: "\(phrase)")
            return refusal(phrase == .tooLargeUpload ? .contentTooLarge : .badRequest, phrase, visit)
        }
        guard let file = form.files["file"]?.first else {
            form.discard()
            return refusal(.badRequest, .fileRequired, visit)
        }
        let login = visit.page.viewer?.user.login ?? "?"
        do {
            // The same check as at intake: a PDF that does not open is refused here.
            try await documents.intake.checkAttachment(file.staged, name: document.fileName, contentType: file.contentType)
            try await documents.store.replaceContent(id, with: file.staged, cause: "văn thư thay tệp / the clerk replaced the file (\(login), console)", at: now())
        } catch {
            form.discard()
            try audit(visit, "replace_refused", subject: id.description, detail: "\(error)")
            let message = (error as? IntakeError).map { visit.language == .vi ? $0.messageVi : $0.messageEn } ?? visit.t(.notNow)
            return Self.page(.conflict, Layout.page(title: visit.t(.replaceFile), Layout.notice(message), visit.page))
        }
        try audit(visit, "replace", subject: id.description)
        return Self.redirect("/documents/\(id.description)?done=replace")
    }
}

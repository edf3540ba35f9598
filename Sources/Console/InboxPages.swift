// Văn bản đến / Inbox: what the hub brought down, each signature's verdict in plain words, the
// files as placed in the inbox folder, and the statuses a clerk sends back (03 registered,
// 04 assigned, 05 in progress, 06 done, 02 refused with a reason) through the relay's own
// `recordClerkStatus`, the code the local API's `POST /v1/inbox/{id}/status` calls.
import EdXML
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird

extension ConsoleServer {
    /// The statuses a clerk may send, in the order of the work, with their words.
    static let clerkStatuses: [(code: String, vi: String, en: String)] = [
        ("03", "03 — Đã tiếp nhận, vào sổ", "03 — Registered"), ("04", "04 — Đã phân công", "04 — Assigned"),
        ("05", "05 — Đang xử lý", "05 — In progress"), ("06", "06 — Đã hoàn thành", "06 — Done"),
        ("02", "02 — Từ chối (ghi lý do)", "02 — Refused (give the reason)"),
    ]

    func inboxPage(_ visit: Visit) async throws -> Response {
        guard let documents else { return refusal(.notFound, .notFound, visit) }
        let items = try documents.store.inboundList(limit: 200).filter { $0.kind == "document" }
        let rows = items.map { item -> HTML in
            """
            <tr><td><a href="/inbox/\(String(item.hubID))">\(String(item.hubID))</a></td><td>\(item.sender)</td>\
            <td>\(Self.date(item.storedAt))</td><td>\(item.verdict.map { Self.outcomeText($0.outcome, visit) } ?? visit.t(.verdictPending))</td>\
            <td>\(item.folder)</td></tr>
            """
        }
        let body: HTML = rows.isEmpty ? "<p>\(visit.t(.inboxEmpty))</p>" : """
            <table><tr><th>#</th><th>\(visit.t(.sender))</th><th>\(visit.t(.receivedAt))</th><th>\(visit.t(.verdict))</th><th>\(visit.t(.inboxFolder))</th></tr>\
            \(rows)</table>
            """
        return Self.page(Layout.page(title: visit.t(.inbox), body, visit.page))
    }

    static func outcomeText(_ outcome: IncomingVerdict.Outcome, _ visit: Visit) -> String {
        let (vi, en) = IncomingVerdict.halves(outcome.label)
        return visit.language == .vi ? vi : en
    }

    func inboxItem(_ visit: Visit) throws -> InboundRecord? {
        guard let documents, let hubID = Int64(Self.pathPart(visit, 1)), let item = try documents.store.inbound(hubID: hubID),
              item.kind == "document" else { return nil }
        return item
    }

    /// The files of an incoming document as the relay placed them for the clerks; none before it was placed.
    func inboxFiles(_ item: InboundRecord) -> (folder: String, names: [String])? {
        guard let base = documents?.inboxFolder, !base.isEmpty, let folder = item.folder, !folder.contains("/"), folder != "..", folder != "." else { return nil }
        let path = (base as NSString).appendingPathComponent(folder)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        return (path, names)
    }

    func inboxItemPage(_ visit: Visit) async throws -> Response {
        guard let item = try inboxItem(visit) else { return refusal(.notFound, .noSuchDocument, visit) }
        return try Self.page(inboxItemHTML(visit, item, notice: visit.query["done"] == "status" ? Layout.notice(visit.t(.statusRecorded), error: false) : ""))
    }

    func inboxItemHTML(_ visit: Visit, _ item: InboundRecord, notice: HTML, reason: String? = nil) throws -> HTML {
        let hub = String(item.hubID)
        // The verdict's own lines, as `thong-tin.txt` and `gatewayd inbox` show them: each finding
        // in Vietnamese with its English on the next line (one wording for every place a clerk reads it).
        let lines = (item.verdict?.lines ?? [visit.t(.verdictPending)]).map { line -> HTML in
            let english = line.hasPrefix("    (")
            return "<li\(english ? HTML(" class=\"en\"") : "")>\(line.trimmingCharacters(in: .whitespaces))</li>"
        }
        let files = inboxFiles(item)?.names.map { name -> HTML in
            "<li><a href=\"/inbox/\(hub)/files/\(name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")\">\(name)</a></li>"
        } ?? []
        var form: HTML = ""
        if let viewer = visit.page.viewer, viewer.user.role != .lanhDao {
            let options = Self.clerkStatuses.map { status -> HTML in "<option value=\"\(status.code)\">\(visit.language == .vi ? status.vi : status.en)</option>" }
            form = documents?.recordStatus == nil ? "<p>\(visit.t(.relayOff))</p>" : """
                <h2>\(visit.t(.statusAction))</h2>
                <form method="post" action="/inbox/\(hub)/status" class="stack">\(Layout.csrfField(viewer.csrf))
                <select name="code">\(options)</select>
                <label>\(visit.t(.statusReason)) <input name="description" maxlength="500" value="\(reason)"></label>
                <button type="submit">\(visit.t(.submit))</button></form>
                """
        }
        let fileList: HTML = files.isEmpty ? "<p>—</p>" : "<ul>\(files)</ul>"
        let body: HTML = """
            \(notice)
            <table><tr><th>\(visit.t(.sender))</th><td>\(item.sender)</td></tr>
            <tr><th>\(visit.t(.receivedAt))</th><td>\(Self.date(item.storedAt))</td></tr>
            <tr><th>\(visit.t(.size))</th><td>\(Self.size(item.size))</td></tr></table>
            <h2>\(visit.t(.verdict))</h2><ul class="verdict">\(lines)</ul>
            <h2>\(visit.t(.files))</h2>\(fileList)
            \(form)
            """
        return Layout.page(title: "\(visit.t(.inbox)) \(hub)", body, visit.page)
    }

    func inboxFile(_ visit: Visit) async throws -> Response {
        let name = Self.pathPart(visit, 3)
        guard let item = try inboxItem(visit), let files = inboxFiles(item), files.names.contains(name) else {
            return refusal(.notFound, .noSuchDocument, visit)
        }
        return try Self.file(path: (files.folder as NSString).appendingPathComponent(name), name: name, inline: visit.query["inline"] == "1")
    }

    func inboxStatus(_ visit: Visit) async throws -> Response {
        if let refused = try clerk(visit, action: "inbox_status") { return refused }
        guard let item = try inboxItem(visit) else {
            try audit(visit, "inbox_status_refused", subject: visit.page.path, detail: "no such document")
            return refusal(.notFound, .noSuchDocument, visit)
        }
        guard let record = documents?.recordStatus else {
            try audit(visit, "inbox_status_refused", subject: String(item.hubID), detail: "relay off")
            return refusal(.conflict, .relayOff, visit)
        }
        let code = visit.form["code"] ?? ""
        let description = visit.form["description"]?.trimmingCharacters(in: .whitespacesAndNewlines)
        let staff = visit.page.viewer?.user.displayName
        let subject = String(item.hubID)
        let recorded: Result<Void, RelayService.ClerkStatusRefusal>
        do { recorded = .success(try await record(item.hubID, code, description?.isEmpty == true ? nil : description, staff)) }
        catch { recorded = .failure(error) }
        let failure: String
        switch recorded {
        case .success:
            try audit(visit, "inbox_status", subject: subject, detail: code)
            return Self.redirect("/inbox/\(subject)?done=status")
        case .failure(.reasonRequired): failure = visit.t(.statusRefusedNeedsReason)
        case .failure(.notAllowed): failure = visit.t(.malformedUpload)
        case .failure(.noSuchDocument):
            try audit(visit, "inbox_status_refused", subject: subject, detail: "no such document")
            return refusal(.notFound, .noSuchDocument, visit)
        case .failure(.cannotBuild): failure = visit.t(.failed)
        }
        try audit(visit, "inbox_status_refused", subject: subject, detail: code)
        return try Self.page(.badRequest, inboxItemHTML(visit, item, notice: Layout.notice(failure), reason: description))
    }
}

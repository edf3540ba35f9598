// Ký số / Signing: the documents waiting for the logged-in person's role, where their signatures
// will go, the token to use, one PIN for the batch; then the session's progress and a result per
// document; and the leader's "return to the clerk with a note". No script: the progress page
// reloads itself every 2 s (`<meta http-equiv="refresh">`), which the CSP allows.
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import NIOCore
import SigningPolicy
import Synchronization

/// What the signing pages need beyond the console's own: the documents and the signing stage
/// (nil when this gatewayd has none: the pages say so).
package final class SigningDesk: Sendable {
    let store: DocumentStore
    let stage: SigningStage?
    /// Each session's reader and its PIN tries left when the session was opened, for "before and
    /// after" on the progress page (the stage keeps no token status of its own).
    private let opened = Mutex<[String: (reader: String?, triesBefore: Int?)]>([:])

    package init(store: DocumentStore, stage: SigningStage?) { (self.store, self.stage) = (store, stage) }

    func remember(_ session: String, reader: String?, triesBefore: Int?) {
        opened.withLock { opened in
            // As many as the stage keeps; older sessions' pages show no "before".
            if opened.count > 64 { opened.removeAll() }
            opened[session] = (reader, triesBefore)
        }
    }

    func openedWith(_ session: String) -> (reader: String?, triesBefore: Int?)? { opened.withLock { $0[session] } }
}

/// The signing pages' words, both languages (kept apart from Phrases.swift's table so the pages
/// of issue 15 can grow in parallel; `UnitSigningPageTests` checks none is empty).
enum SigningWord: CaseIterable {
    case title, noStage, nothingWaiting, choose, document, whereSignatures, openPDF, page, leaderBox, sealBox, noPreview
    case token, chooseToken, noTokenToUse, pin, sign, seal, chooseOne, pinRequired, noIdentity, sessionTitle, progress, signer
    case triesBefore, triesAfter, result, signed, refused, notSigned, stopped, finished, running, number, back
    case returnToClerk, note, noteRequired, returned, noSession, state, confirmLastTry, oldestShown

    var words: (String, String) {
        switch self {
        case .title: ("Ký số", "Signing")
        case .noStage: ("Hộp này chưa bật khâu ký số (không có hỗ trợ token).", "This box has no signing stage (no token support).")
        case .nothingWaiting: ("Không có văn bản nào chờ bạn xử lý.", "No document is waiting for you.")
        case .oldestShown: ("Chỉ hiện các văn bản chờ lâu nhất; ký xong các văn bản này thì các văn bản tiếp theo sẽ hiện ra. Tổng số đang chờ:",
                            "Only the documents waiting longest are shown; once these are signed the next ones appear. Waiting in all:")
        case .choose: ("Chọn", "Choose")
        case .document: ("Văn bản", "Document")
        case .whereSignatures: ("Vị trí chữ ký", "Where the signatures go")
        case .openPDF: ("Mở tệp PDF", "Open the PDF")
        case .page: ("trang", "page")
        case .leaderBox: ("Chữ ký lãnh đạo", "Leader's signature")
        case .sealBox: ("Con dấu", "Seal")
        case .noPreview: ("Không đọc được trang của tệp này.", "This file's pages could not be read.")
        case .token: ("Token", "Token")
        case .chooseToken: ("Chọn token đang cắm", "Choose a plugged-in token")
        case .noTokenToUse: ("Chưa cắm token nào có chứng thư.", "No token with a certificate is plugged in.")
        case .pin: ("Mã PIN của token (một lần cho cả lô)", "The token's PIN (once for the batch)")
        case .sign: ("Ký các văn bản đã chọn", "Sign the chosen documents")
        case .seal: ("Đóng dấu các văn bản đã chọn", "Seal the chosen documents")
        case .chooseOne: ("Hãy chọn ít nhất một văn bản.", "Choose at least one document.")
        case .pinRequired: ("Hãy nhập mã PIN.", "Type the PIN.")
        case .noIdentity:
            ("Tài khoản lãnh đạo này chưa gắn định danh (CCCD:…) — báo quản trị.", "This leader's account has no identity (CCCD:…): tell the administrator.")
        case .sessionTitle: ("Phiên ký", "Signing session")
        case .progress: ("Đang ký", "Signing")
        case .signer: ("Người ký", "Signer")
        case .triesBefore: ("Số lần nhập PIN còn lại trước phiên", "PIN tries left before")
        case .triesAfter: ("Số lần nhập PIN còn lại bây giờ", "PIN tries left now")
        case .result: ("Kết quả", "Result")
        case .signed: ("đã ký", "signed")
        case .refused: ("không ký được", "not signed (refused)")
        case .notSigned: ("chưa ký (phiên đã dừng)", "not signed (the session stopped)")
        case .stopped: ("Phiên ký đã dừng", "The session stopped")
        case .finished: ("Phiên ký đã xong", "The session is finished")
        case .running: ("Đang ký — trang tự cập nhật", "Signing — this page updates itself")
        case .number: ("Số", "Number")
        case .back: ("Về trang ký số", "Back to signing")
        case .returnToClerk: ("Trả lại văn thư", "Return to the clerk")
        case .note: ("Ghi chú cho văn thư", "Note for the clerk")
        case .noteRequired: ("Trả lại cần ghi chú cho văn thư.", "Returning a document needs a note for the clerk.")
        case .returned: ("Đã trả lại văn bản cho văn thư.", "The document was returned to the clerk.")
        case .noSession: ("Không có phiên ký này.", "No such signing session.")
        case .state: ("Trạng thái", "State")
        case .confirmLastTry:
            ("Token chỉ còn 1 lần nhập PIN: tôi xác nhận dùng lần cuối (sai nữa là token bị khoá)",
             "The token has one PIN try left: I confirm using it (one more mistake blocks the token)")
        }
    }

    func text(in language: Language) -> String { language == .vi ? words.0 : words.1 }
}

extension Visit {
    func t(_ word: SigningWord) -> String { word.text(in: language) }
}

extension ConsoleServer {
    /// The state whose documents wait for `role`, and the session role it signs in.
    static func signingWork(_ role: ConsoleRole) -> (waiting: DocumentState, signs: SigningRole)? {
        switch role {
        case .lanhDao: (.awaitingLeader, .leader)
        case .vanThu: (.awaitingSeal, .organization)
        case .quanTri: nil
        }
    }

    /// Documents listed on the signing page at once (a session signs what is chosen among them).
    static let signingPageLimit = 100

    /// "Chờ tôi xử lý" in the header: the documents waiting for the viewer's role.
    func waitingCount(_ user: ConsoleUser) -> Int? {
        guard signing != nil, let work = Self.signingWork(user.role) else { return nil }
        return (try? counts())?[work.waiting] ?? 0
    }

    // MARK: the page

    func signingPage(_ visit: Visit) async throws -> Response {
        let done = visit.query["done"] == "returned" ? visit.t(.returned) : nil
        return try await signingForm(visit, problem: nil, done: done)
    }

    func signingForm(_ visit: Visit, problem: String?, done: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        guard let (user, csrf) = visit.page.viewer, let work = Self.signingWork(user.role) else { return refusal(.forbidden, .forbidden, visit) }
        guard let signing, let stage = signing.stage else {
            return Self.page(Layout.page(title: visit.t(.title), Layout.notice(visit.t(.noStage)), visit.page))
        }
        // The oldest first, at most a page's worth: thousands waiting (a backlog after holidays)
        // must not make a page of megabytes and a preview per document (docs/PERFORMANCE.md).
        let documents = try signing.store.waiting(in: work.waiting, limit: Self.signingPageLimit)
        let waitingInAll = documents.count < Self.signingPageLimit ? documents.count : ((try? counts())?[work.waiting] ?? documents.count)
        let more: HTML = waitingInAll > documents.count ? "<p>\(visit.t(.oldestShown)) \(String(waitingInAll))</p>" : ""
        let notices: HTML = "\(Layout.notice(done, error: false))\(Layout.notice(problem))\(more)"
        let pinLink: HTML = "<p><a href=\"/signing/pin\">\(visit.t(PINWord.linkText))</a></p>"
        guard !documents.isEmpty else {
            return Self.page(status, Layout.page(title: visit.t(.title), "\(notices)<p>\(visit.t(.nothingWaiting))</p>\(pinLink)", visit.page))
        }
        // After a refusal the person's choice comes back; the first time every document is chosen.
        // A link from the API's signature request (`?documents=ID,ID`) chooses those.
        let asked = (visit.query["documents"] ?? "").split(separator: ",").map { "doc.\($0)" }
        let chosen = Set(visit.form.keys.filter { $0.hasPrefix("doc.") } + asked)
        let rows = documents.map { document -> HTML in
            let key = "doc.\(document.id)"
            let checked: HTML = chosen.isEmpty || chosen.contains(key) ? " checked" : ""
            return """
                <tr><td><input type="checkbox" name="\(key)" value="1" id="\(key)"\(checked)></td>
                <td><label for="\(key)"><strong>\(document.metadata.subject ?? document.fileName)</strong></label><br>
                <small>\(document.fileName)</small><br><a href="/signing/pdf?id=\(document.id.description)" target="_blank">\(visit.t(.openPDF))</a></td>
                <td>\(previewFigure(stage.preview(document), visit, document: work.signs == .leader ? document.id : nil))</td></tr>
                """
        }
        let body: HTML = """
            \(notices)
            <form method="post" action="/signing" class="signing">\(Layout.csrfField(csrf))
            <table><tr><th>\(visit.t(.choose))</th><th>\(visit.t(SigningWord.document))</th><th>\(visit.t(.whereSignatures))</th></tr>\(rows)</table>
            \(await tokenChoice(visit))
            <label>\(visit.t(.pin)) \(Self.pinInput("pin"))</label>
            <button type="submit">\(visit.t(work.signs == .leader ? .sign : .seal))</button></form>
            \(pinLink)\(work.signs == .leader ? returnForms(documents, csrf: csrf, visit) : "")\(work.signs == .leader ? SigningDrag.element : "")
            """
        var response = Self.page(status, Layout.page(title: visit.t(.title), body, visit.page))
        // The leader's page runs one script, drag to move (SigningDrag.swift), allowed by its hash.
        if work.signs == .leader { response.headers[.contentSecurityPolicy] = SigningDrag.contentSecurityPolicy }
        return response
    }

    /// The page that will carry the signatures as an outline to scale, with the boxes where the
    /// leader's image and the seal go (DECISION in docs/console.md: no pdf.js, no rendering).
    /// With `document`, the leader's box may be dragged (SigningDrag.swift) into its `rect.ID` field.
    func previewFigure(_ preview: SignaturePreview?, _ visit: Visit, document: DocumentID? = nil) -> HTML {
        guard let preview else { return "<small>\(visit.t(.noPreview))</small>" }
        let (left, bottom) = (preview.box[0], preview.box[1])
        let (width, height) = (max(preview.box[2] - left, 1), max(preview.box[3] - bottom, 1))
        /// A box as percentages of the page, from its top left (CSS) rather than its lower left (PDF).
        func place(_ rect: [Double], _ kind: String, _ label: SigningWord) -> HTML {
            guard rect.count == 4 else { return "" }
            let style = String(format: "left:%.2f%%;top:%.2f%%;width:%.2f%%;height:%.2f%%", (rect[0] - left) / width * 100,
                               (height - (rect[1] - bottom) - rect[3]) / height * 100, rect[2] / width * 100, rect[3] / height * 100)
            let points = HTML(raw: rect.map { String(format: "%.1f", $0) }.joined(separator: ","))
            return "<span class=\"box \(kind)\" style=\"\(style)\" title=\"\(visit.t(label))\" data-rect=\"\(points)\">\(visit.t(label))</span>"
        }
        let ratio = String(format: "%.2f", height / width * 100)
        var drag: (attributes: HTML, field: HTML) = ("", "")
        if let document, preview.leader != nil {
            let box = HTML(raw: preview.box.map { String(format: "%.1f", $0) }.joined(separator: ","))
            drag = (" data-doc=\"\(document.description)\" data-box=\"\(box)\"",
                    "<input type=\"hidden\" name=\"rect.\(document.description)\" id=\"rect.\(document.description)\" value=\"\">")
        }
        return """
            <figure class="sheet">\(drag.field)<div class="paper" style="padding-top:\(ratio)%"\(drag.attributes)>\(preview.leader.map { place($0, "leader", .leaderBox) } ?? "")\
            \(preview.seal.map { place($0, "seal", .sealBox) } ?? "")</div>
            <figcaption>\(visit.t(.page)) \(preview.page)/\(preview.pages)</figcaption></figure>
            """
    }

    /// The plugged-in tokens with a certificate: the holder, tries left, expiry. One is chosen
    /// already when it is the only one.
    func tokenChoice(_ visit: Visit) async -> HTML {
        let usable = (await tokens?.tokenStatus())?.tokens.filter { !$0.certificates.isEmpty } ?? []
        guard !usable.isEmpty else { return "<p class=\"error\">\(visit.t(.noTokenToUse))</p>" }
        let picked = visit.form["reader"] ?? (usable.count == 1 ? usable[0].reader : nil)
        let items = usable.enumerated().map { index, token -> HTML in
            let holders = HTML.join(token.certificates.map { "\($0.slot): \(Self.commonName($0.subject)) — \(visit.t(.expires)) \(Self.day($0.notAfter))" },
                                    separator: "<br>")
            let tries: HTML = token.pinTriesLeft.map { "<br>\(visit.t(.pinTriesLeft)): \($0)" } ?? ""
            let checked: HTML = picked == token.reader ? " checked" : ""
            return """
                <label class="token"><input type="radio" name="reader" value="\(token.reader)" required\(checked)> \
                <strong>\(token.model ?? token.reader)</strong><br>\(holders)\(tries)</label>
                """
        }
        // The stage uses a token's last try only when the person says so.
        let lastTry: HTML = usable.contains { $0.pinTriesLeft == 1 }
            ? "<label><input type=\"checkbox\" name=\"confirm_last_try\" value=\"1\"> \(visit.t(.confirmLastTry))</label>" : ""
        return "<fieldset><legend>\(visit.t(.chooseToken))</legend>\(items)\(lastTry)</fieldset>"
    }

    /// The leader's "return to the clerk with a note", one small form per document (no script:
    /// `<details>` opens it).
    func returnForms(_ documents: [DocumentRecord], csrf: String, _ visit: Visit) -> HTML {
        let forms = documents.map { document -> HTML in
            """
            <details><summary>\(visit.t(.returnToClerk)): \(document.metadata.subject ?? document.fileName)</summary>
            <form method="post" action="/signing/return" class="stack">\(Layout.csrfField(csrf))\
            <input type="hidden" name="id" value="\(document.id.description)">
            <label>\(visit.t(.note)) <textarea name="note" required maxlength="2000"></textarea></label>
            <button type="submit">\(visit.t(.returnToClerk))</button></form></details>
            """
        }
        return "<h2>\(visit.t(.returnToClerk))</h2>\(forms)"
    }

    // MARK: opening a session

    /// One PIN for the batch. Its bytes go into the session's `SessionPIN` (which zeroes the
    /// array it is made from); the form is not kept, logged, or shown again.
    func openSigningSession(_ visit: Visit) async throws -> Response {
        guard let (user, _) = visit.page.viewer, let work = Self.signingWork(user.role) else {
            try audit(visit, "signing_refused", subject: nil, detail: "role")
            return refusal(.forbidden, .forbidden, visit)
        }
        guard let signing, let stage = signing.stage else {
            try audit(visit, "signing_refused", subject: nil, detail: "no_stage")
            return try await signingForm(visit, problem: visit.t(.noStage), status: .conflict)
        }
        let documents = visit.form.keys.filter { $0.hasPrefix("doc.") }.compactMap { DocumentID(String($0.dropFirst(4))) }.sorted()
        guard !documents.isEmpty else {
            try audit(visit, "signing_refused", subject: nil, detail: "no_document")
            return try await signingForm(visit, problem: visit.t(.chooseOne), status: .badRequest)
        }
        guard let pinText = visit.form["pin"], !pinText.isEmpty else {
            try audit(visit, "signing_refused", subject: nil, detail: "no_pin")
            return try await signingForm(visit, problem: visit.t(.pinRequired), status: .badRequest)
        }
        // A lãnh đạo signs with their own token only: the stage compares the certificate with the
        // account's identity before any PIN is used.
        var expected: String?
        if work.signs == .leader {
            if let problem = try placeDraggedBoxes(visit, documents, signing, stage) {
                try audit(visit, "signing_refused", subject: nil, detail: "place")
                return try await signingForm(visit, problem: problem, status: .badRequest)
            }
            guard let identity = user.identity else {
                try audit(visit, "signing_refused", subject: nil, detail: "no_identity")
                return try await signingForm(visit, problem: visit.t(.noIdentity), status: .forbidden)
            }
            expected = identity
        }
        let reader = visit.form["reader"].flatMap { $0.isEmpty ? nil : $0 }
        let triesBefore = (await tokens?.tokenStatus())?.tokens.first { $0.reader == reader }?.pinTriesLeft
        var bytes = Array(pinText.utf8)
        let pin = SessionPIN(consuming: &bytes)
        let request = SigningSessionRequest(role: work.signs, documents: documents, reader: reader, confirmLastTry: visit.form["confirm_last_try"] == "1",
                                            openedBy: user.login, expectedIdentity: expected)
        let status: SigningSessionStatus
        do throws(SigningSessionRefusal) { status = try await stage.open(request, pin: pin) } catch {
            try accounts.audit(ConsoleAuditEntry(at: now(), actor: user.login, action: "signing_refused", address: visit.address, detail: error.code))
            return try await signingForm(visit, problem: error.message, status: HTTPResponse.Status(code: error.httpStatus))
        }
        signing.remember(status.id, reader: reader, triesBefore: triesBefore)
        try accounts.audit(ConsoleAuditEntry(at: now(), actor: user.login, action: "signing_session", subject: status.id, address: visit.address,
                                             detail: "\(work.signs.rawValue) \(documents.count)"))
        return Self.redirect("/signing/sessions/\(status.id)")
    }

    // MARK: following it

    func signingSessionPage(_ visit: Visit) async throws -> Response {
        guard let (user, _) = visit.page.viewer, Self.signingWork(user.role) != nil else { return refusal(.forbidden, .forbidden, visit) }
        let id = String(visit.page.path.split(separator: "/").last ?? "")
        // Only the person who opened it follows a session (its results name their documents).
        guard let stage = signing?.stage, let status = await stage.status(id), status.openedBy == user.login else {
            return Self.page(.notFound, Layout.page(title: visit.t(.sessionTitle), Layout.notice(visit.t(.noSession)), visit.page))
        }
        var page = visit.page
        let headline: HTML
        switch status.phase {
        case .signing:
            page.refresh = 2
            headline = "<p class=\"ok\">\(visit.t(.running))</p><p><strong>\(status.progress ?? "")</strong></p>"
        case .finished:
            headline = "<p class=\"ok\">\(visit.t(.finished))</p>"
        case .stopped:
            headline = "<p class=\"error\" role=\"alert\">\(visit.t(.stopped)): \(status.stopMessage ?? status.stopCode ?? "")</p>"
        }
        let rows = status.results.map { result -> HTML in
            let outcome: SigningWord = switch result.outcome {
            case .signed: .signed
            case .refused: .refused
            case .notSigned: .notSigned
            }
            return """
                <tr><td>\(result.subject ?? result.document.description)</td><td class="\(result.outcome == .signed ? "ok" : "error")">\(visit.t(outcome))\
                \(result.message.map { "<br><small>\($0)</small>" as HTML } ?? "")</td><td>\(result.number ?? "")</td><td>\(result.state?.rawValue ?? "")</td></tr>
                """
        }
        let before = signing?.openedWith(status.id)
        var after: Int?
        if let before, let reader = before.reader, status.phase != .signing {
            after = await tokens?.reread(reader: reader)?.pinTriesLeft
        }
        let warnings = HTML.join(status.warnings.map { Layout.notice($0) })
        let body: HTML = """
            \(headline)\(warnings)
            <p>\(visit.t(.signer)): <strong>\(status.signer)</strong> (\(status.identity))<br>\(visit.t(.token)): \(status.token)<br>
            \(visit.t(.triesBefore)): \(before?.triesBefore.map(String.init) ?? "—")<br>
            \(visit.t(.triesAfter)): \(after.map(String.init) ?? "—")</p>
            <p>\(status.results.count)/\(status.total)</p>
            <table><tr><th>\(visit.t(SigningWord.document))</th><th>\(visit.t(.result))</th><th>\(visit.t(SigningWord.number))</th><th>\(visit.t(SigningWord.state))</th></tr>\(rows)</table>
            <p><a href="/signing">\(visit.t(.back))</a></p>
            """
        return Self.page(Layout.page(title: visit.t(.sessionTitle), body, page))
    }

    // MARK: return to the clerk

    func returnToClerk(_ visit: Visit) async throws -> Response {
        guard let (user, _) = visit.page.viewer, let signing else { return refusal(.forbidden, .forbidden, visit) }
        guard let id = visit.form["id"].flatMap(DocumentID.init) else {
            try audit(visit, "return_refused", subject: visit.form["id"], detail: "no such document")
            return refusal(.notFound, .notFound, visit)
        }
        let note = (visit.form["note"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !note.isEmpty else {
            try audit(visit, "return_refused", subject: id.description, detail: "no note")
            return try await signingForm(visit, problem: visit.t(.noteRequired), status: .badRequest)
        }
        let cause = "trả lại cho văn thư / returned to the clerk bởi / by \(user.login) — \(note)"
        do {
            _ = try signing.store.act(on: id, to: .returned, cause: cause, at: now())
        } catch let error as SigningStoreError {
            try audit(visit, "return_refused", subject: id.description, detail: error.description)
            return try await signingForm(visit, problem: error.description, status: .conflict)
        }
        try accounts.audit(ConsoleAuditEntry(at: now(), actor: user.login, action: "return", subject: id.description, address: visit.address))
        return Self.redirect("/signing?done=returned")
    }

    // MARK: the PDF itself

    /// The document's current version, shown by the browser's own PDF viewer (no pdf.js).
    func signingPDF(_ visit: Visit) async throws -> Response {
        guard let (user, _) = visit.page.viewer, Self.signingWork(user.role) != nil else { return refusal(.forbidden, .forbidden, visit) }
        guard let signing, let id = visit.query["id"].flatMap(DocumentID.init), let record = try signing.store.document(id) else {
            return refusal(.notFound, .notFound, visit)
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: signing.store.layout.objectPath(record.id, version: record.version)))
        // Not the pages' CSP: a policy of `default-src 'none'` on a PDF keeps Chromium's own viewer from drawing it.
        var headers: HTTPFields = [.contentType: "application/pdf", .cacheControl: "no-store", HTTPField.Name("X-Content-Type-Options")!: "nosniff"]
        headers[.contentDisposition] = "inline; filename=\"\(record.id).pdf\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

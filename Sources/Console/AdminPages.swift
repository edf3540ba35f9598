// Quản trị / Administration (docs/console.md, "Administration"): the page that leads to the
// administrator's work; a user's password reset; the leaders' signature images and the seal image
// (uploaded PNGs, served to the next signature); the agency directory the box keeps from the hub.
// Every change is audited; every page and form is the quản trị's, with the session's CSRF token.
import DocumentModel
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import NIOCore

extension ConsoleServer {
    func addAdminRoutes(_ router: Router<ConsoleContext>) {
        route(router, .get, "/admin", .session(.quanTri), adminPage)
        route(router, .get, "/users/password", .session(.quanTri)) { try self.resetPasswordPage($0) }
        route(router, .post, "/users/password", .session(.quanTri), resetPassword)
        route(router, .get, "/admin/images", .session(.quanTri)) { try self.imagesPage($0) }
        // The PNG travels as multipart: the gate checks the CSRF token from the action URL.
        route(router, .post, "/admin/images", .session(.quanTri), multipart: true, uploadImage)
        route(router, .get, "/admin/images/file", .session(.quanTri), imageFile)
        route(router, .get, "/admin/directory", .session(.quanTri)) { try self.directoryPage($0) }
        route(router, .get, "/admin/doctor", .session(.quanTri), doctorPage)
        addBackupRoutes(router)
    }

    func adminPage(_ visit: Visit) async throws -> Response {
        func w(_ vi: String, _ en: String) -> String { Self.word(visit, vi, en) }
        let body: HTML = """
            <ul>
            <li><a href="/users">\(visit.t(.users))</a> — \(w("thêm, khóa, mở khóa đăng nhập, đặt lại mật khẩu", "add, disable, unlock, reset a password"))</li>
            <li><a href="/api-keys">\(w("Khóa API", "API keys"))</a> — \(w("cho phần mềm quản lý văn bản", "for the document software"))</li>
            <li><a href="/admin/images">\(w("Ảnh chữ ký và con dấu", "Signature and seal images"))</a></li>
            <li><a href="/admin/directory">\(w("Danh bạ cơ quan", "Agency directory"))</a></li>
            <li><a href="/admin/doctor">\(w("Chẩn đoán hộp", "Box diagnosis"))</a> — \(w("như gatewayd doctor", "as gatewayd doctor"))</li>
            <li><a href="/admin/backups">\(w("Sao lưu", "Backups"))</a> — \(w("tải bản sao lưu mới nhất", "download the newest backup"))</li>
            </ul>
            """
        return Self.page(Layout.page(title: w("Quản trị", "Administration"), body, visit.page))
    }

    // MARK: a user's password

    func resetPasswordPage(_ visit: Visit, problem: String? = nil, status: HTTPResponse.Status = .ok) throws -> Response {
        func w(_ vi: String, _ en: String) -> String { Self.word(visit, vi, en) }
        let login = visit.form["login"] ?? visit.query["login"] ?? ""
        guard let user = try accounts.user(login) else { return refusal(.notFound, .notFound, visit) }
        let body: HTML = """
            \(Layout.notice(problem))
            <p>\(w("Đặt mật khẩu tạm cho", "A temporary password for")) <strong>\(user.displayName)</strong> (\(user.login)). \
            \(w("Mọi phiên của người này kết thúc; lần đăng nhập sau họ phải đặt mật khẩu mới.",
                "Their sessions end; at their next login they must choose a new password."))</p>
            <form method="post" action="/users/password" class="stack">\(Layout.csrfField(visit.page.viewer?.csrf ?? ""))
            <input type="hidden" name="login" value="\(user.login)">
            \(newPasswordFields(visit, label: .newPassword))
            <button type="submit">\(w("Đặt lại mật khẩu", "Reset the password"))</button></form>
            """
        return Self.page(status, Layout.page(title: w("Đặt lại mật khẩu", "Reset a password"), body, visit.page))
    }

    /// An administrator's new password for someone else: their sessions end, and they must
    /// choose their own at the next login (`passwordWasReset`).
    func resetPassword(_ visit: Visit) async throws -> Response {
        guard let (admin, _) = visit.page.viewer else { return Self.redirect("/login") }
        let login = visit.form["login"] ?? "", password = visit.form["password"] ?? ""
        guard try accounts.user(login) != nil else {
            try audit(visit, "password_reset_refused", subject: login, detail: "no such user")
            return refusal(.notFound, .notFound, visit)
        }
        if let problem = rules.check(password: password, again: visit.form["password_again"] ?? "") {
            try audit(visit, "password_reset_refused", subject: login, detail: "\(problem)")
            return try resetPasswordPage(visit, problem: visit.t(problem.phrase), status: .badRequest)
        }
        let hash = try await slow { Passwords.hash(password) }
        try accounts.setPassword(login, hash: hash, audit: ConsoleAuditEntry(at: now(), actor: admin.login, action: "password_reset", subject: login,
                                                                            address: visit.address))
        logger.notice("console: password reset", metadata: ["login": "\(login)", "by": "\(admin.login)"])
        return Self.redirect("/users?done=changed")
    }

    // MARK: signature and seal images

    func imagesPage(_ visit: Visit, notice: HTML = "", status: HTTPResponse.Status = .ok) throws -> Response {
        func w(_ vi: String, _ en: String) -> String { Self.word(visit, vi, en) }
        let title = w("Ảnh chữ ký và con dấu", "Signature and seal images")
        guard let images = signing?.stage?.images else {
            return Self.page(Layout.page(title: title, Layout.notice(w("Hộp này chưa bật khâu ký số.", "This box has no signing stage.")), visit.page))
        }
        let csrf = visit.page.viewer?.csrf ?? ""
        /// One image: what the next signature draws (or that none is set), and a form to replace it.
        func item(_ label: String, which: String, identity: String?, present: Bool) -> HTML {
            let query = "which=\(which)" + (identity.map { "&identity=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" } ?? "")
            let shown: HTML = present
                ? "<img src=\"/admin/images/file?\(query)\" alt=\"\(label)\" style=\"max-width:12em;max-height:8em;background:#fff;border:1px solid #ddd\">"
                : "<em>\(w("chưa có ảnh (chữ ký dùng chữ in)", "no image (the signature uses text)"))</em>"
            return """
                <fieldset><legend>\(label)</legend>\(shown)
                <form method="post" action="/admin/images?csrf=\(csrf)" enctype="multipart/form-data" class="stack">
                <input type="hidden" name="which" value="\(which)"><input type="hidden" name="identity" value="\(identity ?? "")">
                <input type="file" name="image" accept="image/png" required><button type="submit">\(w("Tải ảnh PNG lên", "Upload a PNG"))</button></form>
                </fieldset>
                """
        }
        let leaders = images.leaders.map { leader -> HTML in
            let identity = leader.identity.description
            return item("\(leader.title) \(leader.name) (\(identity))", which: "leader", identity: identity, present: images.signature(for: identity) != nil)
        }
        let body: HTML = """
            \(notice)
            <p>\(w("Ảnh PNG nền trong suốt, tối đa \(AppearanceImages.sizeLimit / 1024) KiB; chữ ký tiếp theo dùng ngay ảnh mới. Ảnh con dấu cần độ phân giải (pHYs) hoặc [signing] seal_width_mm.",
                   "Transparent PNG, at most \(AppearanceImages.sizeLimit / 1024) KiB; the next signature uses the new image. The seal needs its resolution (pHYs) or [signing] seal_width_mm."))</p>
            \(HTML.join(leaders))
            \(item(w("Con dấu của cơ quan", "The organization's seal"), which: "seal", identity: nil, present: images.seal != nil))
            """
        return Self.page(status, Layout.page(title: title, body, visit.page))
    }

    func uploadImage(_ visit: Visit) async throws -> Response {
        func w(_ vi: String, _ en: String) -> String { Self.word(visit, vi, en) }
        guard let images = signing?.stage?.images else { return refusal(.notFound, .notFound, visit) }
        let form: (fields: [String: String], image: [UInt8])
        do { form = try await readImageUpload(visit) } catch {
            try audit(visit, "image_refused", subject: nil, detail: "upload")
            return try imagesPage(visit, notice: Layout.notice(w("Không đọc được tệp tải lên (tối đa \(AppearanceImages.sizeLimit / 1024) KiB).",
                                                                 "The upload could not be read (at most \(AppearanceImages.sizeLimit / 1024) KiB).")),
                                  status: .badRequest)
        }
        let (which, bytes) = (form.fields["which"] ?? "", form.image)
        let identity = form.fields["identity"].flatMap { $0.isEmpty ? nil : $0 }
        do throws(AppearanceImages.Failure) {
            switch (which, identity) {
            case ("seal", _): try images.replaceSeal(with: bytes)
            case ("leader", let identity?): try images.replaceSignature(of: identity, with: bytes)
            default: throw AppearanceImages.Failure(description: w("Không rõ ảnh nào.", "Which image is not said."))
            }
        } catch {
            try audit(visit, "image_refused", subject: identity ?? which, detail: error.description)
            return try imagesPage(visit, notice: Layout.notice(error.description), status: .badRequest)
        }
        try audit(visit, "image", subject: identity ?? which, detail: "\(bytes.count) bytes")
        logger.notice("console: appearance image replaced", metadata: ["image": "\(identity ?? which)"])
        return try imagesPage(visit, notice: Layout.notice(w("Đã lưu ảnh; chữ ký tiếp theo dùng ảnh này.", "The image is kept; the next signature uses it."),
                                                           error: false))
    }

    /// The form's one file, in memory, and its few text fields: the file is small
    /// (`AppearanceImages.sizeLimit`) and the body is read no further than that and a little more.
    func readImageUpload(_ visit: Visit) async throws -> (fields: [String: String], image: [UInt8]) {
        guard let upload = visit.upload, let boundary = MultipartParser.boundary(contentType: upload.contentType) else {
            throw MultipartError.malformed("not multipart/form-data")
        }
        let buffer = try await upload.body.collect(upTo: AppearanceImages.sizeLimit + 16 * 1024)
        var parser = MultipartParser(boundary: boundary)
        var file: [UInt8]?
        var fields: [String: [UInt8]] = [:]
        var current: String?  // the text field being read; "" for the file
        try parser.feed(buffer.readableBytesView) { event in
            switch event {
            case .part(let part):
                current = nil
                if part.name == "image", part.fileName != nil, file == nil {
                    (current, file) = ("", [])
                } else if part.fileName == nil, fields[part.name] == nil {
                    (current, fields[part.name]) = (part.name, [])
                }
            case .data(let bytes):
                if current == "" { file? += bytes } else if let current { fields[current]? += bytes }
            case .end: current = nil
            }
        }
        try parser.finish()
        guard let file, !file.isEmpty else { throw MultipartError.malformed("no file") }
        return (fields.mapValues { String(decoding: $0, as: UTF8.self) }, file)
    }

    func imageFile(_ visit: Visit) async throws -> Response {
        guard let images = signing?.stage?.images else { return refusal(.notFound, .notFound, visit) }
        let bytes = visit.query["which"] == "seal" ? images.seal?.bytes : visit.query["identity"].flatMap { images.signature(for: $0)?.bytes }
        guard let bytes, !bytes.isEmpty else { return refusal(.notFound, .notFound, visit) }
        var headers = Self.securityHeaders
        headers[.contentType] = "image/png"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: the agency directory

    /// Agencies shown at once; the search narrows a directory of a province's thousands.
    static let directoryPageLimit = 200

    func directoryPage(_ visit: Visit) throws -> Response {
        func w(_ vi: String, _ en: String) -> String { Self.word(visit, vi, en) }
        let store = documents?.store ?? signing?.store
        let entries = (try store?.directoryEntries()) ?? []
        let words = Self.folded(visit.query["q"] ?? "").split(separator: " ")
        let matching = entries.filter { entry in
            let text = Self.folded(entry.name + " " + entry.code.description)
            return words.allSatisfy { text.contains($0) }
        }
        let rows = matching.prefix(Self.directoryPageLimit).map { "<tr><td><code>\($0.code.description)</code></td><td>\($0.name)</td></tr>" as HTML }
        let fetched = (try store?.directoryFetchedAt()).flatMap { $0 }.map(Self.time) ?? w("chưa lấy được", "never fetched")
        let more: HTML = matching.count > rows.count ? "<p>\(w("Chỉ hiện", "Showing")) \(String(rows.count))/\(String(matching.count))</p>" : ""
        let body: HTML = """
            <p>\(w("Danh bạ do trục liên thông cung cấp, lấy lần cuối:", "The hub's directory, last fetched:")) \(fetched) — \(String(entries.count)) \(w("cơ quan", "agencies"))</p>
            <form method="get" action="/admin/directory"><label>\(w("Tìm theo tên hoặc mã", "Search by name or code")) \
            <input name="q" value="\(visit.query["q"])" type="search"></label> <button>\(visit.t(.search))</button></form>
            \(more)<table><tr><th>\(w("Mã định danh", "Code"))</th><th>\(w("Tên cơ quan", "Name"))</th></tr>\(rows)</table>
            """
        return Self.page(Layout.page(title: w("Danh bạ cơ quan", "Agency directory"), body, visit.page))
    }

    /// Lower case without diacritics (đ as d): "uy ban xa" finds "Ủy ban nhân dân xã".
    static func folded(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: Locale(identifier: "vi_VN")).replacingOccurrences(of: "đ", with: "d")
    }
}

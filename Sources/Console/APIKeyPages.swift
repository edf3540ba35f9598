// Quản trị → Khóa API / API keys: the keys of the commune's document software (docs/api.md),
// made and revoked by a quản trị as `gatewayd api-key` does. A new key is shown once, on the
// answer to the form that made it, and never again (only its SHA-256 is kept).
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird

extension ConsoleServer {
    func addAPIKeyPages(_ router: Router<ConsoleContext>) {
        route(router, .get, "/api-keys", .session(.quanTri)) { try self.apiKeysPage($0) }
        route(router, .post, "/api-keys", .session(.quanTri), addAPIKey)
        route(router, .post, "/api-keys/revoke", .session(.quanTri), revokeAPIKey)
    }

    /// This page's words, Vietnamese or English (they are its own: no other page uses them).
    static func word(_ visit: Visit, _ vi: String, _ en: String) -> String { visit.language == .vi ? vi : en }

    func apiKeysPage(_ visit: Visit, notice: HTML = "", status: HTTPResponse.Status = .ok) throws -> Response {
        let csrf = visit.page.viewer?.csrf ?? ""
        func w(_ vi: String, _ en: String) -> String { Self.word(visit, vi, en) }
        let rows = try accounts.apiKeys().map { key -> HTML in
            let revoke: HTML = key.revokedAt != nil ? "" : """
                <form method="post" action="/api-keys/revoke" class="inline">\(Layout.csrfField(csrf))\
                <input type="hidden" name="name" value="\(key.name)"><button>\(w("Thu hồi", "Revoke"))</button></form>
                """
            let role = key.role == .vanThu ? w("văn thư", "clerk") : w("chỉ đọc", "read only")
            let state = key.revokedAt.map { w("đã thu hồi ", "revoked ") + Self.date($0) } ?? w("đang dùng", "active")
            return "<tr><td>\(key.name)</td><td>\(role)</td><td>\(Self.date(key.createdAt))</td><td>\(key.createdBy)</td><td>\(state)</td><td>\(revoke)</td></tr>"
        }
        let body: HTML = """
            \(notice)
            <p>\(w("Khóa cho phần mềm quản lý văn bản gọi /api/v1 qua HTTPS (xem docs/api.md). Khóa chỉ hiện một lần khi tạo.",
                   "Keys for the document software calling /api/v1 over HTTPS (see docs/api.md). A key is shown once, when made."))</p>
            <table><tr><th>\(w("Tên", "Name"))</th><th>\(w("Vai trò", "Role"))</th><th>\(w("Tạo lúc", "Created"))</th>\
            <th>\(w("Bởi", "By"))</th><th>\(w("Trạng thái", "State"))</th><th></th></tr>\(rows)</table>
            <h2>\(w("Tạo khóa", "Make a key"))</h2>
            <form method="post" action="/api-keys" class="stack">\(Layout.csrfField(csrf))
            <label>\(w("Tên", "Name")) <input name="name" required autocapitalize="none" value="\(visit.form["name"])"></label>
            <label>\(w("Vai trò", "Role")) <select name="role"><option value="van_thu">\(w("văn thư", "clerk"))</option>\
            <option value="chi_doc">\(w("chỉ đọc", "read only"))</option></select></label>
            <button type="submit">\(w("Tạo khóa", "Make a key"))</button></form>
            """
        return Self.page(status, Layout.page(title: w("Khóa API", "API keys"), body, visit.page))
    }

    func addAPIKey(_ visit: Visit) async throws -> Response {
        guard let (admin, _) = visit.page.viewer else { return Self.redirect("/login") }
        let role = visit.form["role"].flatMap(APIKeyRole.init) ?? .vanThu
        let made: Result<String, AccountProblem>
        do {
            made = try APIKeys.add(name: visit.form["name"] ?? "", role: role, by: admin.login, address: visit.address, rules: rules,
                                   accounts: accounts, now: now())
        } catch let failure as AccountStore.APIKeyFailure {
            try audit(visit, "api_key_add_refused", subject: visit.form["name"], detail: "\(failure)")
            return try apiKeysPage(visit, notice: Layout.notice(failure.description), status: .badRequest)
        }
        switch made {
        case .failure(let problem):
            try audit(visit, "api_key_add_refused", subject: visit.form["name"], detail: "\(problem)")
            return try apiKeysPage(visit, notice: Layout.notice(visit.t(problem.phrase)), status: .badRequest)
        case .success(let token):
            let shown: HTML = """
                \(Layout.notice(Self.word(visit, "Khóa mới — chép ngay, sẽ không hiện lại:", "The new key — copy it now, it is not shown again:"), error: false))\
                <p><code id="new-key">\(token)</code></p>
                """
            var visit = visit
            visit.form = [:]
            return try apiKeysPage(visit, notice: shown)
        }
    }

    func revokeAPIKey(_ visit: Visit) async throws -> Response {
        guard let (admin, _) = visit.page.viewer else { return Self.redirect("/login") }
        let name = visit.form["name"] ?? ""
        do {
            try accounts.revokeAPIKey(name, audit: ConsoleAuditEntry(at: now(), actor: admin.login, action: "api_key_revoke", subject: name,
                                                                    address: visit.address))
        } catch let failure as AccountStore.APIKeyFailure {
            try audit(visit, "api_key_revoke_refused", subject: name, detail: "\(failure)")
            return try apiKeysPage(visit, notice: Layout.notice(failure.description), status: .badRequest)
        }
        return Self.redirect("/api-keys")
    }
}

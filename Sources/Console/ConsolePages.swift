// The console's first pages: the CA and its instructions, first-run setup, login and logout,
// and the users (quản trị). The overview is OverviewPage.swift.
import DocumentModel
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import NIOCore

extension ConsoleServer {
    // MARK: the box's CA

    func caPage(_ visit: Visit) async throws -> Response {
        let fingerprints = try? BoxCA.fingerprints(ofPEMFile: ca.caCertificatePath)
        let body: HTML = """
            <p>\(visit.t(.caExplain))</p>
            <p><a href="/ca.pem" download="gateway-ca.crt">\(visit.t(.caDownload))</a></p>
            <p>\(visit.t(.caFingerprint)) SHA-256: <code>\(fingerprints?.sha256 ?? "—")</code><br>
            SHA-1 (Windows “Thumbprint”): <code>\(fingerprints?.sha1 ?? "—")</code></p>
            <p>\(visit.t(.caStepsWindows))</p>
            """
        return Self.page(Layout.page(title: visit.t(.caTitle), body, visit.page))
    }

    func caFile() throws -> Response {
        let pem = try String(contentsOfFile: ca.caCertificatePath, encoding: .utf8)
        var headers = Self.securityHeaders
        // The type Windows opens with its certificate installer; `.crt` so a double-click does too.
        headers[.contentType] = "application/x-x509-ca-cert"
        headers[.contentDisposition] = "attachment; filename=\"gateway-ca.crt\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: pem)))
    }

    // MARK: first run

    func setupPage(_ visit: Visit) async throws -> Response {
        // No quản trị left (the last one disabled from the command line): a new code, as at start.
        if setupCode.read() == nil {
            _ = try setupCode.ensure()
            logger.notice("console waiting for its first administrator: the setup code is shown by `gatewayd status`", metadata: ["new_code": "true"])
        }
        return try setupForm(visit, problem: nil)
    }

    func setupForm(_ visit: Visit, problem: String?, status: HTTPResponse.Status = .ok) throws -> Response {
        let fields: HTML = """
            <label>\(visit.t(.setupCode)) <input name="code" required autocomplete="off" inputmode="numeric"></label>
            <label>\(visit.t(.login)) <input name="login" required value="\(visit.form["login"])" autocomplete="username"></label>
            <label>\(visit.t(.displayName)) <input name="display_name" required value="\(visit.form["display_name"])"></label>
            \(newPasswordFields(visit))
            """
        return preSessionForm(visit, title: .setupTitle, action: "/setup", above: "<p>\(visit.t(.setupExplain))</p>\(Layout.notice(problem))",
                              fields: fields, button: .submit, status: status)
    }

    /// The setup and login forms: no session yet, so their CSRF token is also set as a cookie
    /// (double submit), kept when the browser already has one.
    func preSessionForm(_ visit: Visit, title: Phrase, action: String, above: HTML, fields: HTML, button: Phrase,
                        status: HTTPResponse.Status) -> Response {
        let token = visit.formToken ?? Secrets.randomToken()
        let body: HTML = """
            \(above)
            <form method="post" action="\(action)" class="stack">\(Layout.csrfField(token))
            \(fields)
            <button type="submit">\(visit.t(button))</button></form>
            <p><a href="/ca">\(visit.t(.caTitle))</a></p>
            """
        var response = Self.page(status, Layout.page(title: visit.t(title), body, visit.page))
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.formCookie, token)))
        return response
    }

    func setup(_ visit: Visit) async throws -> Response {
        let now = now()
        if let refused = try addressRefusal(visit, now: now, login: visit.form["login"] ?? "") { return refusal(.tooManyRequests, refused, visit) }
        guard setupCode.matches(visit.form["code"] ?? "") else {
            try accounts.recordFailure(login: "(setup)", address: visit.address,
                                       audit: ConsoleAuditEntry(at: now, actor: "(setup)", action: "setup_failed", address: visit.address))
            logger.warning("console: wrong setup code", metadata: ["address": "\(visit.address)"])
            return try setupForm(visit, problem: visit.t(.wrongSetupCode), status: .forbidden)
        }
        let checked = rules.newUser(login: visit.form["login"] ?? "", displayName: visit.form["display_name"] ?? "", role: .quanTri,
                                    identity: nil, password: visit.form["password"] ?? "", passwordAgain: visit.form["password_again"] ?? "",
                                    existing: try accounts.users())
        let accepted: (user: ConsoleUser, password: String)
        switch checked {
        case .failure(let problem):
            try accounts.audit(ConsoleAuditEntry(at: now, actor: "(setup)", action: "setup_refused", address: visit.address, detail: "\(problem)"))
            return try setupForm(visit, problem: visit.t(problem.phrase), status: .badRequest)
        case .success(let value): accepted = value
        }
        var user = accepted.user
        let password = accepted.password
        user.passwordHash = try await slow { Passwords.hash(password) }
        do {
            try accounts.add(user, audit: ConsoleAuditEntry(at: now, actor: "(setup)", action: "setup", subject: user.login, address: visit.address,
                                                            detail: user.role.rawValue), onlyIfNoAdministrator: true)
        } catch AccountStore.Failure.adminExists {
            return Self.redirect("/login")
        }
        setupCode.consume()
        logger.notice("console: first administrator created", metadata: ["login": "\(user.login)", "address": "\(visit.address)"])
        return Self.redirect("/login?done=setup")
    }

    // MARK: login and logout

    func loginPage(_ visit: Visit) async throws -> Response {
        let done: Phrase? = switch visit.query["done"] {
        case "setup": .setupDone
        case "password": .passwordChanged
        default: nil
        }
        return try loginForm(visit, problem: nil, done: done.map(visit.t))
    }

    func loginForm(_ visit: Visit, problem: String?, done: String? = nil, status: HTTPResponse.Status = .ok) throws -> Response {
        let fields: HTML = """
            <label>\(visit.t(.login)) <input name="login" required value="\(visit.form["login"])" autocomplete="username" autocapitalize="none"></label>
            <label>\(visit.t(.password)) <input name="password" type="password" required autocomplete="current-password"></label>
            """
        return preSessionForm(visit, title: .loginTitle, action: "/login", above: "\(Layout.notice(done, error: false))\(Layout.notice(problem))",
                              fields: fields, button: .loginTitle, status: status)
    }

    /// The address's lock-out, audited when it refuses.
    func addressRefusal(_ visit: Visit, now: Date, login: String) throws -> Phrase? {
        let failures = try accounts.failures(from: visit.address, since: now.addingTimeInterval(-2 * lockOut.addressWindow))
        guard lockOut.addressRefusedUntil(failures: failures, now: now) != nil else { return nil }
        try accounts.audit(ConsoleAuditEntry(at: now, actor: login, action: "login_refused", address: visit.address, detail: "address locked out"))
        return .tooManyFromAddress
    }

    func login(_ visit: Visit) async throws -> Response {
        let now = now()
        let login = (visit.form["login"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let password = visit.form["password"] ?? ""
        if let refused = try addressRefusal(visit, now: now, login: login) { return refusal(.tooManyRequests, refused, visit) }
        let user = try accounts.user(login)
        if let user, lockOut.accountRefusedUntil(user, now: now) != nil {
            // Not counted: waiting out the delay is all it takes, whoever caused it.
            try accounts.audit(ConsoleAuditEntry(at: now, actor: login, action: "login_refused", address: visit.address, detail: "account delay"))
            return try loginForm(visit, problem: visit.t(.accountDelayed), status: .tooManyRequests)
        }
        let hash = user?.passwordHash ?? Passwords.decoy
        let matches = try await slow { Passwords.verify(password, hash: hash) }
        guard let user, matches, !user.disabled else {
            try accounts.recordFailure(login: login, address: visit.address,
                                       audit: ConsoleAuditEntry(at: now, actor: login, action: "login_failed", address: visit.address,
                                                                detail: user == nil ? "unknown login" : user!.disabled ? "disabled" : "wrong password"))
            logger.notice("console: login failed", metadata: ["login": "\(login)", "address": "\(visit.address)"])
            return try loginForm(visit, problem: visit.t(.wrongLogin), status: .unauthorized)
        }
        let (token, session) = sessions.open(login: user.login, now: now)
        try accounts.recordLogin(session, address: visit.address,
                                 audit: ConsoleAuditEntry(at: now, actor: user.login, action: "login", address: visit.address),
                                 forgetBefore: now.addingTimeInterval(-2 * lockOut.addressWindow))
        logger.notice("console: login", metadata: ["login": "\(user.login)", "address": "\(visit.address)"])
        // A password an administrator reset is replaced by the owner's own before anything else.
        let reset = try accounts.passwordWasReset(user.login)
        mustChangePassword.withLock { if reset { $0.insert(user.login) } else { $0.remove(user.login) } }
        var response = Self.redirect(reset ? "/password?reset=1" : "/")
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.sessionCookie, token)))
        return response
    }

    func logout(_ visit: Visit) async throws -> Response {
        if let (user, _) = visit.page.viewer, let session = visit.session {
            try accounts.endSession(session, audit: ConsoleAuditEntry(at: now(), actor: user.login, action: "logout", address: visit.address))
        }
        var response = Self.redirect("/login")
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.sessionCookie, "", maxAge: 0)))
        return response
    }

    // MARK: users

    func usersPage(_ visit: Visit) async throws -> Response {
        try usersList(visit, problem: nil, done: visit.query["done"].map { $0 == "added" ? visit.t(.userAdded) : visit.t(.userChanged) })
    }

    func usersList(_ visit: Visit, problem: String?, done: String? = nil, status: HTTPResponse.Status = .ok) throws -> Response {
        let csrf = visit.page.viewer?.csrf ?? ""
        /// A button that posts one account's login to `path`.
        func action(_ path: String, _ login: String, _ label: Phrase) -> HTML {
            """
            <form method="post" action="\(path)" class="inline">\(Layout.csrfField(csrf))<input type="hidden" name="login" value="\(login)">\
            <button>\(visit.t(label))</button></form>
            """
        }
        let rows = try accounts.users().map { user -> HTML in
            let toggle = user.disabled ? action("/users/enable", user.login, .enable) : action("/users/disable", user.login, .disable)
            let unlock = user.failedLogins > 0 ? action("/users/unlock", user.login, .unlock) : ""
            let reset: HTML = "<a href=\"/users/password?login=\(user.login)\">\(Self.word(visit, "Đặt lại mật khẩu", "Reset the password"))</a>"
            return """
                <tr><td>\(user.login)</td><td>\(user.displayName)</td><td>\(visit.t(user.role.phrase))</td><td>\(user.identity ?? "")</td>\
                <td>\(visit.t(user.disabled ? .disabled : .active))</td><td>\(user.failedLogins)</td><td>\(toggle) \(unlock) \(reset)</td></tr>
                """
        }
        let roles = ConsoleRole.allCases.map { role -> HTML in
            let selected: HTML = visit.form["role"] == role.rawValue ? " selected" : ""
            return "<option value=\"\(role.rawValue)\"\(selected)>\(visit.t(role.phrase))</option>"
        }
        let body: HTML = """
            \(Layout.notice(done, error: false))\(Layout.notice(problem))
            <p><a href="/api-keys">Khóa API / API keys</a></p>
            <h2>\(visit.t(.userList))</h2>
            <table><tr><th>\(visit.t(.login))</th><th>\(visit.t(.displayName))</th><th>\(visit.t(.role))</th><th>\(visit.t(.identity))</th><th></th><th>\(visit.t(.failedLogins))</th><th></th></tr>
            \(rows)</table>
            <h2>\(visit.t(.addUser))</h2>
            <form method="post" action="/users" class="stack">\(Layout.csrfField(csrf))
            <label>\(visit.t(.login)) <input name="login" required value="\(visit.form["login"])" autocapitalize="none"></label>
            <label>\(visit.t(.displayName)) <input name="display_name" required value="\(visit.form["display_name"])"></label>
            <label>\(visit.t(.role)) <select name="role">\(roles)</select></label>
            <label>\(visit.t(.identity)) <input name="identity" value="\(visit.form["identity"])"></label>
            \(newPasswordFields(visit))
            <button type="submit">\(visit.t(.addUser))</button></form>
            """
        return Self.page(status, Layout.page(title: visit.t(.users), body, visit.page))
    }

    func addUser(_ visit: Visit) async throws -> Response {
        guard let (admin, _) = visit.page.viewer else { return Self.redirect("/login") }
        let role = visit.form["role"].flatMap(ConsoleRole.init) ?? .vanThu
        let checked = rules.newUser(login: visit.form["login"] ?? "", displayName: visit.form["display_name"] ?? "", role: role,
                                    identity: visit.form["identity"], password: visit.form["password"] ?? "",
                                    passwordAgain: visit.form["password_again"] ?? "", existing: try accounts.users())
        switch checked {
        case .failure(let problem):
            try audit(visit, "user_add_refused", subject: visit.form["login"], detail: "\(problem)")
            return try usersList(visit, problem: visit.t(problem.phrase), status: .badRequest)
        case .success(let accepted):
            var user = accepted.user
            let password = accepted.password
            user.passwordHash = try await slow { Passwords.hash(password) }
            do {
                try accounts.add(user, audit: ConsoleAuditEntry(at: now(), actor: admin.login, action: "user_add", subject: user.login,
                                                                address: visit.address, detail: user.role.rawValue))
            } catch AccountStore.Failure.exists {
                try audit(visit, "user_add_refused", subject: user.login, detail: "exists")
                return try usersList(visit, problem: visit.t(.userExists), status: .badRequest)
            }
            logger.notice("console: user added", metadata: ["login": "\(user.login)", "role": "\(user.role.rawValue)", "by": "\(admin.login)"])
            return Self.redirect("/users?done=added")
        }
    }

    func setDisabled(_ visit: Visit, _ disabled: Bool) async throws -> Response {
        guard let (admin, _) = visit.page.viewer else { return Self.redirect("/login") }
        let login = visit.form["login"] ?? ""
        // An administrator does not lock themself out (the last one would leave nobody to undo it).
        if disabled && login == admin.login {
            try audit(visit, "disable_refused", subject: login, detail: "oneself")
            return refusal(.badRequest, .forbidden, visit)
        }
        do {
            try accounts.setDisabled(login, disabled, audit: ConsoleAuditEntry(at: now(), actor: admin.login, action: disabled ? "disable" : "enable",
                                                                               subject: login, address: visit.address))
        } catch AccountStore.Failure.noSuchUser {
            try audit(visit, disabled ? "disable_refused" : "enable_refused", subject: login, detail: "no such user")
            return refusal(.notFound, .notFound, visit)
        }
        logger.notice("console: user \(disabled ? "disabled" : "enabled")", metadata: ["login": "\(login)", "by": "\(admin.login)"])
        return Self.redirect("/users?done=changed")
    }
}

extension ConsoleServer {
    // MARK: one's own password, an account's failures

    func unlockUser(_ visit: Visit) async throws -> Response {
        guard let (admin, _) = visit.page.viewer else { return Self.redirect("/login") }
        let login = visit.form["login"] ?? ""
        do {
            try accounts.unlock(login, audit: ConsoleAuditEntry(at: now(), actor: admin.login, action: "unlock", subject: login, address: visit.address))
        } catch AccountStore.Failure.noSuchUser {
            try audit(visit, "unlock_refused", subject: login, detail: "no such user")
            return refusal(.notFound, .notFound, visit)
        }
        return Self.redirect("/users?done=changed")
    }

    /// A new password, typed twice (setup, a new account, a change).
    func newPasswordFields(_ visit: Visit, label: Phrase = .password) -> HTML {
        """
        <label>\(visit.t(label)) <input name="password" type="password" required autocomplete="new-password"></label>
        <label>\(visit.t(.passwordAgain)) <input name="password_again" type="password" required autocomplete="new-password"></label>
        """
    }

    func passwordPage(_ visit: Visit) async throws -> Response {
        guard visit.query["reset"] == "1" else { return passwordForm(visit, problem: nil) }
        return passwordForm(visit, problem: Self.word(visit, "Quản trị đã đặt lại mật khẩu của bạn: hãy đặt mật khẩu mới của riêng bạn.",
                                                      "An administrator reset your password: choose a new one of your own."))
    }

    func passwordForm(_ visit: Visit, problem: String?, status: HTTPResponse.Status = .ok) -> Response {
        let body: HTML = """
            \(Layout.notice(problem))
            <form method="post" action="/password" class="stack">\(Layout.csrfField(visit.page.viewer?.csrf ?? ""))
            <label>\(visit.t(.currentPassword)) <input name="current" type="password" required autocomplete="current-password"></label>
            \(newPasswordFields(visit, label: .newPassword))
            <button type="submit">\(visit.t(.changePassword))</button></form>
            """
        return Self.page(status, Layout.page(title: visit.t(.changePassword), body, visit.page))
    }

    /// The current password first (a session left open on a shared PC must not be enough), counted
    /// like a failed login when wrong; a new password ends every session of the account.
    func changePassword(_ visit: Visit) async throws -> Response {
        guard let (user, _) = visit.page.viewer else { return Self.redirect("/login") }
        let now = now()
        let current = visit.form["current"] ?? "", password = visit.form["password"] ?? ""
        if let problem = rules.check(password: password, again: visit.form["password_again"] ?? "") {
            try audit(visit, "password_refused", subject: user.login, detail: "\(problem)")
            return passwordForm(visit, problem: visit.t(problem.phrase), status: .badRequest)
        }
        if let refused = try addressRefusal(visit, now: now, login: user.login) { return refusal(.tooManyRequests, refused, visit) }
        if lockOut.accountRefusedUntil(user, now: now) != nil {
            try audit(visit, "password_refused", subject: user.login, detail: "account delay")
            return passwordForm(visit, problem: visit.t(.accountDelayed), status: .tooManyRequests)
        }
        let hash = user.passwordHash
        guard try await slow({ Passwords.verify(current, hash: hash) }) else {
            try accounts.recordFailure(login: user.login, address: visit.address,
                                       audit: ConsoleAuditEntry(at: now, actor: user.login, action: "password_failed", subject: user.login,
                                                                address: visit.address))
            return passwordForm(visit, problem: visit.t(.wrongCurrentPassword), status: .unauthorized)
        }
        let newHash = try await slow { Passwords.hash(password) }
        try accounts.setPassword(user.login, hash: newHash, audit: ConsoleAuditEntry(at: now, actor: user.login, action: "password", subject: user.login,
                                                                                    address: visit.address))
        mustChangePassword.withLock { _ = $0.remove(user.login) }
        logger.notice("console: password changed", metadata: ["login": "\(user.login)"])
        var response = Self.redirect("/login?done=password")
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.sessionCookie, "", maxAge: 0)))
        return response
    }
}

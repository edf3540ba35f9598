// The console's HTTP side: who may see which page (setup first, then a session, then a role),
// the CSRF check on every form, cookies, and the routes.
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Synchronization

package struct ConsoleContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The client's IP address: what the per-address lock-out counts.
    let address: String

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        address = source.channel.remoteAddress?.ipAddress ?? "?"
    }
}

/// Who may open a page.
enum Access: Equatable {
    /// Anyone, even before setup (the CA and its instructions).
    case open
    /// Only while no quản trị exists.
    case setup
    /// Before a session (the login page).
    case login
    /// A session, and when given, this role.
    case session(ConsoleRole?)
}

/// One request as a page sees it, once its access was checked.
struct Visit: Sendable {
    var page: PageContext
    var address: String
    var form: [String: String] = [:]
    var query: [String: String] = [:]
    /// Before a session: the double-submit token of the login and setup forms (`gw_form` cookie).
    var formToken: String?
    /// The session's key (its token's SHA-256), once the gate found it.
    var session: String?
    /// A `multipart/form-data` upload's body, left unread by the gate (its CSRF token comes in
    /// the form's action URL) for the page to stream into the store; nil for other requests.
    var upload: (body: RequestBody, contentType: String?)?

    var language: Language { page.language }
    func t(_ phrase: Phrase) -> String { page.t(phrase) }
}

package final class ConsoleServer: Sendable {
    static let sessionCookie = "gw_session"
    static let formCookie = "gw_form"
    static let languageCookie = "gw_lang"
    static let formLimit = 64 * 1024

    let accounts: AccountStore
    let rules: AccountRules
    let sessions: SessionRules
    let lockOut: LockOutRules
    let setupCode: SetupCode
    let ca: BoxCA
    let counts: @Sendable () throws -> [DocumentState: Int]
    /// The relay's status; nil when no `[upstream]` is configured.
    let hub: (@Sendable () -> RelayStatus)?
    let tokens: (any TokenStatusSource)?
    /// The documents and the signing stage for the signing pages (SigningPages.swift); nil: no such pages.
    let signing: SigningDesk?
    /// The store, intake and relay behind the document pages (DocumentPages.swift); nil in tests
    /// of the foundation alone.
    let documents: ConsoleDocuments?
    /// The overview's warnings' facts (OverviewWarnings.swift); nil: no warnings shown.
    let watch: OverviewWatch?
    let now: @Sendable () -> Date
    let logger: Logger
    /// Accounts whose password an administrator reset (`passwordWasReset`, told by the audit):
    /// until they choose their own, every page leads to /password. Read from the store when the
    /// console starts — a session opened before a restart stays bound to the change — and kept
    /// up to date at each login and password change.
    let mustChangePassword: Mutex<Set<String>>

    package init(accounts: AccountStore, rules: AccountRules, setupCode: SetupCode, ca: BoxCA,
                 counts: @escaping @Sendable () throws -> [DocumentState: Int], hub: (@Sendable () -> RelayStatus)? = nil,
                 tokens: (any TokenStatusSource)?, signing: SigningDesk? = nil, documents: ConsoleDocuments? = nil,
                 watch: OverviewWatch? = nil, sessions: SessionRules = .init(), lockOut: LockOutRules = .init(),
                 now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        (self.accounts, self.rules, self.setupCode, self.ca, self.counts, self.hub, self.tokens) = (accounts, rules, setupCode, ca, counts, hub, tokens)
        (self.sessions, self.lockOut, self.now, self.logger) = (sessions, lockOut, now, logger)
        self.signing = signing
        self.documents = documents
        self.watch = watch
        // Few accounts: one audit lookup each. A store that cannot be read here fails the first
        // page anyway; the set then fills at the next login.
        let reset = ((try? accounts.users()) ?? []).filter { (try? accounts.passwordWasReset($0.login)) == true }.map(\.login)
        self.mustChangePassword = Mutex(Set(reset))
    }

    package func router() -> Router<ConsoleContext> {
        let router = Router(context: ConsoleContext.self)
        route(router, .get, "/ca", .open, caPage)
        router.get("/ca.pem") { _, _ in try self.caFile() }
        route(router, .get, "/setup", .setup, setupPage)
        route(router, .post, "/setup", .setup, setup)
        route(router, .get, "/login", .login, loginPage)
        route(router, .post, "/login", .login, login)
        route(router, .post, "/logout", .session(nil), logout)
        route(router, .get, "/", .session(nil), overview)
        route(router, .get, "/users", .session(.quanTri), usersPage)
        route(router, .post, "/users", .session(.quanTri), addUser)
        route(router, .post, "/users/disable", .session(.quanTri)) { try await self.setDisabled($0, true) }
        route(router, .post, "/users/enable", .session(.quanTri)) { try await self.setDisabled($0, false) }
        route(router, .post, "/users/unlock", .session(.quanTri), unlockUser)
        route(router, .get, "/password", .session(nil), passwordPage)
        route(router, .post, "/password", .session(nil), changePassword)
        // Ký số / Signing (SigningPages.swift): lãnh đạo and văn thư, each in their own role.
        route(router, .get, "/signing", .session(nil), signingPage)
        route(router, .post, "/signing", .session(nil), openSigningSession)
        route(router, .get, "/signing/sessions/{id}", .session(nil), signingSessionPage)
        route(router, .post, "/signing/return", .session(.lanhDao), returnToClerk)
        route(router, .get, "/signing/pdf", .session(nil), signingPDF)
        route(router, .get, "/signing/pin", .session(nil), pinChangePage)
        route(router, .post, "/signing/pin", .session(nil), changeTokenPIN)
        // Outbox, upload, document and inbox pages (OutboxPages, DocumentPages, InboxPages).
        addDocumentRoutes(router)
        // Quản trị / Administration (AdminPages.swift): password reset, images, directory.
        addAdminRoutes(router)
        // The commune software's API under /api/v1, by API key (APIRoutes.swift).
        addAPIRoutes(router)
        return router
    }

    /// `multipart`: the body is left for the page (an upload), its CSRF token taken from the query.
    func route(_ router: Router<ConsoleContext>, _ method: HTTPRequest.Method, _ path: RouterPath, _ access: Access, multipart: Bool = false,
               _ body: @escaping @Sendable (Visit) async throws -> Response) {
        router.on(path, method: method) { request, context in await self.handle(request, context, access, multipart: multipart, body) }
    }

    // MARK: the gate

    func handle(_ request: Request, _ context: ConsoleContext, _ access: Access, multipart: Bool = false,
                _ body: @Sendable (Visit) async throws -> Response) async -> Response {
        let cookies = Self.cookies(request)
        let query = Self.parseForm(request.uri.query ?? "")
        let chosen = query["lang"].flatMap(Language.init)
        let language = chosen ?? cookies[Self.languageCookie].flatMap(Language.init) ?? .vi
        // The language link goes back to this page: only a path of ours (never "//host", which a
        // browser would take for another site).
        let path = request.uri.path.hasPrefix("/") && !request.uri.path.hasPrefix("//") ? request.uri.path : "/"
        var visit = Visit(page: PageContext(language: language, viewer: nil, path: path), address: context.address, query: query)
        var response: Response
        do {
            response = try await gate(request, cookies: cookies, access: access, multipart: multipart, visit: &visit, body)
        } catch {
            logger.error("console request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = Self.page(.internalServerError, Layout.page(title: visit.t(.failed), Layout.notice(visit.t(.failed)), visit.page))
        }
        if let chosen {
            response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.languageCookie, chosen.rawValue, maxAge: 365 * 86400)))
        }
        return response
    }

    private func gate(_ request: Request, cookies: [String: String], access: Access, multipart: Bool, visit: inout Visit,
                      _ body: @Sendable (Visit) async throws -> Response) async throws -> Response {
        if access != .open {
            let ready = try accounts.administratorExists()
            if !ready && access != .setup { return Self.redirect("/setup") }
            if ready && access == .setup { return Self.redirect("/login") }
        }
        let posted = request.method == .post
        if posted, multipart {
            // A file is streamed to the store, never collected here. The form carries its token
            // in its action URL, so that this gate checks it (and the session and role) before a
            // byte of the body is read, as for every other form; the URL is never sent on in a
            // Referer (the pages say no-referrer) and the token is the session's, not a password.
            visit.form["csrf"] = visit.query["csrf"]
            visit.upload = (request.body, request.headers[.contentType])
        } else if posted {
            guard let buffer = try? await request.body.collect(upTo: Self.formLimit) else {
                return refusal(.contentTooLarge, .tooLarge, visit)
            }
            visit.form = Self.parseForm(String(buffer: buffer))
        }
        switch access {
        case .open:
            break
        case .setup, .login:
            // No session yet: the form's token is checked against a cookie of its own
            // (double submit), which another site can neither read nor set.
            if posted {
                guard let expected = cookies[Self.formCookie], expected.count >= 32, Secrets.equal(visit.form["csrf"] ?? "", expected) else {
                    try accounts.audit(ConsoleAuditEntry(at: now(), actor: access == .setup ? "(setup)" : visit.form["login"] ?? "?", action: "csrf_refused",
                                                         subject: request.uri.path, address: visit.address))
                    return refusal(.forbidden, .csrfRefused, visit)
                }
                visit.formToken = expected
            } else {
                visit.formToken = cookies[Self.formCookie]
            }
        case .session(let role):
            let now = now()
            guard let token = cookies[Self.sessionCookie], let session = try accounts.session(Secrets.sha256(token)) else {
                return posted ? refusal(.forbidden, .loginRequired, visit) : Self.redirect("/login")
            }
            guard sessions.isAlive(session, now: now), let user = try accounts.user(session.login), !user.disabled else {
                try accounts.endSession(session.tokenSHA256, audit: ConsoleAuditEntry(at: now, actor: session.login, action: "session_expired",
                                                                                       address: visit.address))
                return posted ? refusal(.forbidden, .loginRequired, visit) : Self.redirect("/login")
            }
            if let role, user.role != role {
                try accounts.audit(ConsoleAuditEntry(at: now, actor: user.login, action: "forbidden", subject: request.uri.path, address: visit.address,
                                                     detail: "role \(user.role.rawValue)"))
                return refusal(.forbidden, .forbidden, visit)
            }
            if visit.page.path != "/password", visit.page.path != "/logout", mustChangePassword.withLock({ $0.contains(user.login) }) {
                return posted ? refusal(.forbidden, .forbidden, visit) : Self.redirect("/password?reset=1")
            }
            if posted, !Secrets.equal(visit.form["csrf"] ?? "", session.csrf) {
                try accounts.audit(ConsoleAuditEntry(at: now, actor: user.login, action: "csrf_refused", subject: request.uri.path, address: visit.address))
                return refusal(.forbidden, .csrfRefused, visit)
            }
            if sessions.needsTouch(session, now: now) { try accounts.touch(session.tokenSHA256, at: now) }
            visit.page.viewer = (user, session.csrf)
            visit.page.waiting = waitingCount(user)
            visit.session = session.tokenSHA256
        }
        return try await body(visit)
    }

    func refusal(_ status: HTTPResponse.Status, _ phrase: Phrase, _ visit: Visit) -> Response {
        Self.page(status, Layout.page(title: visit.t(phrase), Layout.notice(visit.t(phrase)), visit.page))
    }

    // MARK: responses and cookies

    static func page(_ html: HTML) -> Response { page(.ok, html) }

    static func page(_ status: HTTPResponse.Status, _ html: HTML) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html.rendered)))
    }

    /// 303: the browser follows with a GET (after a form, the page is not posted again on reload).
    static func redirect(_ location: String) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    /// No script and no outside resource may run or load; the pages are never cached nor framed.
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        .cacheControl: "no-store",
    ]

    /// Every cookie of the console: sent only over HTTPS, never to scripts, never with a request
    /// another site starts. Without `maxAge` it ends with the browser (the server's expiry rules).
    static func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> String {
        "\(name)=\(value); Secure; HttpOnly; SameSite=Strict; Path=/" + (maxAge.map { "; Max-Age=\($0)" } ?? "")
    }

    static func cookies(_ request: Request) -> [String: String] {
        var found: [String: String] = [:]
        for field in request.headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let name = parts[0].trimmingCharacters(in: .whitespaces)
                if found[name] == nil { found[name] = parts[1].trimmingCharacters(in: .whitespaces) }
            }
        }
        return found
    }

    /// `application/x-www-form-urlencoded` (and a query string): the first value of each name.
    static func parseForm(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String { part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            let name = decode(parts[0])
            if fields[name] == nil { fields[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }

    /// bcrypt off the event loop: a check takes a tenth of a second or more.
    func slow<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}

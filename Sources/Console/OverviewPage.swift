// Tổng quan / Overview: who is logged in, the hub link and its queue per lane, the documents
// by state, the plugged-in tokens, and the warnings (OverviewWarnings.swift).
import DocumentModel
import Foundation
import GatewayCore
import Hummingbird
import TimeJSON

extension ConsoleServer {
    // MARK: overview

    func overview(_ visit: Visit) async throws -> Response {
        guard let (user, _) = visit.page.viewer else { return Self.redirect("/login") }
        let counts = try self.counts()
        let rows = DocumentState.allCases.map { state -> HTML in "<tr><td>\(state.rawValue)</td><td>\(counts[state] ?? 0)</td></tr>" }
        var tokenPart: HTML = ""
        let tokenStatus = await tokens?.tokenStatus()
        if let status = tokenStatus {
            var items: [HTML] = status.tokens.map { token in
                let certificates = token.certificates.map { certificate -> HTML in
                    "<br>\(Self.commonName(certificate.subject)) — \(visit.t(.expires)) \(Self.day(certificate.notAfter))"
                }
                let tries: HTML = token.pinTriesLeft.map { "<br>\(visit.t(.pinTriesLeft)): \($0)" } ?? ""
                let problem: HTML = token.problem.map { "<br><span class=\"error\">\($0)</span>" } ?? ""
                return "<li><strong>\(token.model ?? token.reader)</strong>\(certificates)\(tries)\(problem)</li>"
            }
            if items.isEmpty { items = ["<li>\(visit.t(.noTokens))</li>"] }
            let service: HTML = status.pcscd == "ok" ? "" : Layout.notice(visit.t(.noTokenService))
            tokenPart = "<h2>\(visit.t(.tokens))</h2>\(service)<ul>\(items)</ul>"
        }
        var warnings: HTML = ""
        if let watch {
            let now = now()
            let found = watch.limits.warnings(try watch.facts(now: now, tokens: tokenStatus), now: now)
            let items = found.map { warning -> HTML in "<li class=\"error\" data-warning=\"\(warning.kind.rawValue)\">\(warning.text)</li>" }
            warnings = found.isEmpty ? "<p class=\"ok\">\(visit.t(.noWarnings))</p>" : "<ul role=\"alert\">\(items)</ul>"
            warnings = "<h2>\(visit.t(.warnings))</h2>\(warnings)"
        }
        let body: HTML = """
            <p>\(visit.t(.loggedInAs)): <strong>\(user.displayName)</strong> (\(user.login), \(visit.t(user.role.phrase)))</p>
            \(warnings)
            \(hubPart(visit))
            <h2>\(visit.t(.documentsByState))</h2>
            <table>\(rows)</table>
            \(tokenPart)
            """
        return Self.page(Layout.page(title: visit.t(.overview), body, visit.page))
    }

    /// The link to the hub: up or down since when, the last success and error, the queue per lane.
    func hubPart(_ visit: Visit) -> HTML {
        guard let status = hub?() else { return "<h2>\(visit.t(.hub))</h2><p>\(visit.t(.hubNotConfigured))</p>" }
        let link: Phrase = switch status.link {
        case .up: .linkUp
        case .down: .linkDown
        case .unknown: .linkUnknown
        }
        let since: HTML = status.linkSince.map { " — \(visit.t(.since)) \(Self.time($0))" } ?? ""
        let success: HTML = "<br>\(visit.t(.lastSuccess)): \(status.lastSuccessAt.map(Self.time) ?? "—")"
        let error: HTML = status.lastError.map { "<br>\(visit.t(.lastError)): \(status.lastErrorAt.map(Self.time) ?? "") \($0)" } ?? ""
        let warning: HTML = Layout.notice(status.warning)
        let lanes = status.lanes.map { lane -> HTML in "<tr><td>\(lane.name)</td><td>\(lane.queued)</td><td>\(lane.sending)</td></tr>" }
        return """
            <h2>\(visit.t(.hub))</h2>
            <p class="\(status.link == .down ? "error" : "ok")">\(status.hub ?? "—"): \(visit.t(link))\(since)</p>
            <p>\(success)\(error)</p>\(warning)
            <table><tr><th>\(visit.t(.lane))</th><th>\(visit.t(.queued))</th><th>\(visit.t(.sending))</th></tr>\(lanes)</table>
            """
    }

    /// A moment as Vietnam writes it (HH:mm dd/MM/yyyy), in Vietnam's time.
    static func time(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = GatewayJSON.vietnamTime
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return String(format: "%02d:%02d ", parts.hour ?? 0, parts.minute ?? 0) + day(date)
    }

    /// The holder's name from a subject as the token watcher writes it ("CN=…, O=…"); the whole
    /// subject when it has no CN.
    static func commonName(_ subject: String) -> String {
        for part in subject.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("CN=") { return String(trimmed.dropFirst(3)) }
        }
        return subject
    }

    /// A day as Vietnam writes it (dd/MM/yyyy), in Vietnam's time.
    static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = GatewayJSON.vietnamTime
        let parts = calendar.dateComponents([.day, .month, .year], from: date)
        return String(format: "%02d/%02d/%04d", parts.day ?? 0, parts.month ?? 0, parts.year ?? 0)
    }
}

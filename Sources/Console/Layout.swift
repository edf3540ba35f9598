// The one page layout: header with navigation, "waiting for me", the language toggle; small
// inline CSS that suits a phone and an old office PC; no script, no external asset.
import GatewayCore

/// What every page needs to know about the request it answers.
struct PageContext: Sendable {
    var language: Language
    /// The person logged in, with their session's CSRF token (for the logout form); nil before login.
    var viewer: (user: ConsoleUser, csrf: String)?
    /// The request's path, for the language link back to the same page.
    var path: String
    /// "Chờ tôi xử lý": the documents waiting for the viewer's role (nil: none for this role).
    var waiting: Int? = nil
    /// Seconds after which the page reloads itself (a signing session's progress, without script).
    var refresh: Int? = nil

    func t(_ phrase: Phrase) -> String { phrase.text(in: language) }
}

enum Layout {
    static func page(title: String, _ body: HTML, _ context: PageContext) -> HTML {
        let language = context.language
        var nav: [HTML] = []
        var session: HTML = ""
        if let (user, csrf) = context.viewer {
            nav.append("<a href=\"/\">\(context.t(.overview))</a>")
            nav.append("<a href=\"/outbox\">\(context.t(.outbox))</a>")
            nav.append("<a href=\"/inbox\">\(context.t(.inbox))</a>")
            if user.role == .quanTri {
                nav.append("<a href=\"/users\">\(context.t(.users))</a>")
                nav.append("<a href=\"/admin\">\(context.language == .vi ? "Quản trị" : "Administration")</a>")
            }
            if let waiting = context.waiting {
                nav.append("<a href=\"/signing\" class=\"badge\" title=\"\(context.t(.waitingForMe))\">\(context.t(.waitingForMe)): <span id=\"waiting\">\(waiting)</span></a>")
            }
            session = """
                <a class="who" href="/password" title="\(context.t(.changePassword))">\(user.displayName)</a>\
                <form method="post" action="/logout" class="inline">\(csrfField(csrf))\
                <button type="submit">\(context.t(.logout))</button></form>
                """
        }
        return """
            <!DOCTYPE html>
            <html lang="\(language.rawValue)"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">\(context.refresh.map { "\n<meta http-equiv=\"refresh\" content=\"\($0)\">" as HTML } ?? "")
            <title>\(title) — \(context.t(.consoleTitle))</title>
            <style>\(HTML(raw: style))</style></head>
            <body><header><strong>\(context.t(.consoleTitle))</strong>
            <nav>\(HTML.join(nav, separator: " "))</nav>
            <span class="right">\(session) <a href="\(context.path)?lang=\(language.other.rawValue)">\(context.t(.otherLanguage))</a></span>
            </header>
            <main><h1>\(title)</h1>
            \(body)
            </main></body></html>
            """
    }

    static func csrfField(_ token: String) -> HTML { "<input type=\"hidden\" name=\"csrf\" value=\"\(token)\">" }

    /// A message above a form: `error` in red.
    static func notice(_ text: String?, error: Bool = true) -> HTML {
        guard let text else { return "" }
        return "<p class=\"\(error ? "error" : "ok")\" role=\"alert\">\(text)</p>"
    }

    static let style = """
        body{font:16px/1.45 system-ui,"Segoe UI",Arial,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f9}
        header{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:center;padding:.6em 1em;background:#8b1a1a;color:#fff}
        header a,header button{color:#fff}header nav{display:flex;gap:1em;flex-wrap:wrap}
        .right{margin-left:auto;display:flex;gap:.6em;align-items:center;flex-wrap:wrap}
        .badge{background:#fff3;border-radius:1em;padding:0 .6em}
        main{max-width:60em;margin:0 auto;padding:1em}h1{font-size:1.4em}
        table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.35em .5em;border-bottom:1px solid #ddd}
        form.stack{display:grid;gap:.6em;max-width:26em;background:#fff;padding:1em;border:1px solid #ddd}
        input,select,button{font:inherit;padding:.4em}button{cursor:pointer}
        form.inline{display:inline;margin:0}header form.inline button{background:none;border:1px solid #fff8}
        .error{color:#a00;font-weight:bold}.warn{color:#a60;font-weight:bold}.ok{color:#060}code{background:#eee;padding:0 .2em;word-break:break-all}
        figure.sheet{margin:0;width:10em}.paper{position:relative;background:#fff;border:1px solid #888;box-shadow:2px 2px 0 #ccc}
        .box{position:absolute;overflow:hidden;font-size:.55em;line-height:1.1;border:1px dashed}.leader{border-color:#036;background:#03f2}
        .seal{border-color:#a00;border-radius:50%;background:#f002}.drag{cursor:move;touch-action:none}figcaption{font-size:.8em;color:#555}
        fieldset{background:#fff;border:1px solid #ddd;margin:.6em 0}label.token{display:block;padding:.3em 0}form.signing{display:grid;gap:.6em}
        @media (max-width:40em){main{padding:.5em}table{font-size:.9em}}
        """
}

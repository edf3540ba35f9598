import GatewayCore
import HTTPTypes
import Hummingbird

/// "Đổi mã PIN" (issue 15): the holder changes their token's PIN at the box, as the signing page
/// signs there — a new token's PIN must often be changed before its first use, and the vendors'
/// PC tools that would do it are what the console replaces. The stage decides whose token it is
/// (`SigningStage.changePIN`): a lãnh đạo changes only their own token's PIN, a văn thư only the
/// organization's, before any try is spent. The PINs go from the form into `SessionPIN`s (which
/// zero the arrays they are made from) and are never kept, logged or shown again.
enum PINWord: CaseIterable {
    case heading, linkText, currentPIN, newPIN, newPINAgain, changeButton, mismatch, sameAsCurrent, missing, pinChanged, hint

    var words: (String, String) {
        switch self {
        case .heading: ("Đổi mã PIN của token", "Change the token's PIN")
        case .linkText: ("Đổi mã PIN của token (token mới thường phải đổi PIN trước khi dùng)",
                     "Change the token's PIN (a new token's PIN must often be changed before first use)")
        case .currentPIN: ("Mã PIN hiện tại", "Current PIN")
        case .newPIN: ("Mã PIN mới", "New PIN")
        case .newPINAgain: ("Nhập lại mã PIN mới", "New PIN again")
        case .changeButton: ("Đổi mã PIN", "Change the PIN")
        case .mismatch: ("Hai lần nhập mã PIN mới không giống nhau — chưa đổi gì.", "The two new PINs differ: nothing was changed.")
        case .sameAsCurrent: ("Mã PIN mới trùng mã PIN hiện tại — chưa đổi gì.", "The new PIN is the current one: nothing was changed.")
        case .missing: ("Hãy nhập mã PIN hiện tại và mã PIN mới hai lần.", "Type the current PIN and the new PIN twice.")
        case .pinChanged: ("Đã đổi mã PIN. Từ nay dùng mã PIN mới để ký.", "The PIN was changed. Sign with the new PIN from now on.")
        case .hint: ("Mã PIN sai sẽ mất một lần thử của token, như khi ký. Mã PIN mới theo quy định của chính token: token PIV dùng 6–8 chữ số; token của các CA (PKCS#11) tự quy định độ dài và có thể nhận cả chữ cái.",
                     "A wrong current PIN costs one of the token's tries, as when signing. A new PIN follows the token's own rule: a PIV token takes 6–8 digits; CA tokens (PKCS#11) set their own lengths and may take letters.")
        }
    }

    func text(in language: Language) -> String { language == .vi ? words.0 : words.1 }
}

extension Visit {
    func t(_ word: PINWord) -> String { word.text(in: language) }
}

extension ConsoleServer {
    /// A PIN field, on this page and the signing form. No inputmode="numeric": a phone would show
    /// a digits-only keypad, and a CA token's PKCS#11 PIN may hold letters, which could then not be
    /// typed at all. The form is drawn before the token is chosen (and one may be plugged in
    /// after), so it cannot know the backend; a full keyboard costs a PIV holder one switch to
    /// the digits, the numeric one would shut a PKCS#11 holder out.
    static func pinInput(_ name: String) -> HTML {
        "<input name=\"\(name)\" type=\"password\" autocomplete=\"off\" required>"
    }

    func pinChangePage(_ visit: Visit) async throws -> Response {
        let done = visit.query["done"] == "changed" ? visit.t(PINWord.pinChanged) : nil
        return try await pinChangeForm(visit, problem: nil, done: done)
    }

    func pinChangeForm(_ visit: Visit, problem: String?, done: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        guard let (user, csrf) = visit.page.viewer, Self.signingWork(user.role) != nil else { return refusal(.forbidden, .forbidden, visit) }
        guard signing?.stage != nil else {
            return Self.page(Layout.page(title: visit.t(PINWord.heading), Layout.notice(visit.t(.noStage)), visit.page))
        }
        func field(_ name: String, _ label: PINWord) -> HTML { "<label>\(visit.t(label)) \(Self.pinInput(name))</label>" }
        let body: HTML = """
            \(Layout.notice(done, error: false))\(Layout.notice(problem))
            <p>\(visit.t(PINWord.hint))</p>
            <form method="post" action="/signing/pin" class="stack">\(Layout.csrfField(csrf))
            \(await tokenChoice(visit))
            \(field("current_pin", .currentPIN))\(field("new_pin", .newPIN))\(field("new_pin_again", .newPINAgain))
            <button type="submit">\(visit.t(PINWord.changeButton))</button></form>
            <p><a href="/signing">\(visit.t(.back))</a></p>
            """
        return Self.page(status, Layout.page(title: visit.t(PINWord.heading), body, visit.page))
    }

    func changeTokenPIN(_ visit: Visit) async throws -> Response {
        guard let (user, _) = visit.page.viewer, let work = Self.signingWork(user.role) else {
            try audit(visit, "pin_change_refused", subject: nil, detail: "role")
            return refusal(.forbidden, .forbidden, visit)
        }
        guard let stage = signing?.stage else {
            try audit(visit, "pin_change_refused", subject: nil, detail: "no_stage")
            return try await pinChangeForm(visit, problem: visit.t(.noStage), status: .conflict)
        }
        let (current, new, again) = (visit.form["current_pin"] ?? "", visit.form["new_pin"] ?? "", visit.form["new_pin_again"] ?? "")
        // Checked before the token is touched: a typing mistake costs no try.
        let problem: PINWord? = current.isEmpty || new.isEmpty ? .missing : new != again ? .mismatch : new == current ? .sameAsCurrent : nil
        if let problem {
            try audit(visit, "pin_change_refused", subject: nil, detail: "\(problem)")
            return try await pinChangeForm(visit, problem: visit.t(problem), status: .badRequest)
        }
        var expected: String?
        if work.signs == .leader {
            guard let identity = user.identity else {
                try audit(visit, "pin_change_refused", subject: nil, detail: "no_identity")
                return try await pinChangeForm(visit, problem: visit.t(.noIdentity), status: .forbidden)
            }
            expected = identity
        }
        let reader = visit.form["reader"].flatMap { $0.isEmpty ? nil : $0 }
        var currentBytes = Array(current.utf8), newBytes = Array(new.utf8)
        let request = PINChangeRequest(role: work.signs, reader: reader, confirmLastTry: visit.form["confirm_last_try"] == "1",
                                       expectedIdentity: expected, requestedBy: user.login)
        do throws(SigningSessionRefusal) {
            try await stage.changePIN(request, current: SessionPIN(consuming: &currentBytes), new: SessionPIN(consuming: &newBytes))
        } catch {
            try audit(visit, "pin_change_refused", subject: reader, detail: error.code)
            return try await pinChangeForm(visit, problem: error.message, status: HTTPResponse.Status(code: error.httpStatus))
        }
        try audit(visit, "pin_change", subject: reader)
        return Self.redirect("/signing/pin?done=changed")
    }
}

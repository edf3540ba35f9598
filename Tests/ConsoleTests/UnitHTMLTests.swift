// HTML's escaping: a person's text never becomes markup.
@testable import Console
import GatewayCore
import XCTest

final class UnitHTMLTests: XCTestCase {
    func testInterpolatedTextIsEscaped() {
        let name = "<script>alert(\"x\")</script> & 'y'"
        let html: HTML = "<td>\(name)</td>"
        XCTAssertEqual(html.rendered, "<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;</td>")
    }

    func testAttributeValuesCannotBeClosed() {
        let value = "\" onmouseover=\"alert(1)"
        let html: HTML = "<input value=\"\(value)\">"
        XCTAssertEqual(html.rendered, "<input value=\"&quot; onmouseover=&quot;alert(1)\">")
    }

    func testMarkupGoesInOnlyAsHTML() {
        let inner: HTML = "<b>\("a<b")</b>"
        let outer: HTML = "<p>\(inner)\(HTML(raw: "<br>"))\([inner, inner])</p>"
        XCTAssertEqual(outer.rendered, "<p><b>a&lt;b</b><br><b>a&lt;b</b><b>a&lt;b</b></p>")
        XCTAssertEqual(HTML.join(["<i>1</i>", "<i>2</i>"], separator: ", ").rendered, "<i>1</i>, <i>2</i>")
    }

    func testOptionalsNumbersAndControlCharacters() {
        let missing: String? = nil
        let html: HTML = "\(missing)|\(42)|\("a\u{0}b\u{1B}c\td")"
        XCTAssertEqual(html.rendered, "|42|a\u{FFFD}b\u{FFFD}c\td")
    }

    func testVietnameseIsKeptAsItIs() {
        let html: HTML = "\("Chủ tịch Ủy ban nhân dân xã")"
        XCTAssertEqual(html.rendered, "Chủ tịch Ủy ban nhân dân xã")
        // Decomposed diacritics (as some Windows and macOS software writes them) beside escapes.
        let mixed = "Ủy <ban> \u{7F}e\u{0302}\u{0301} & \"Hòa Tiến\""
        XCTAssertEqual(HTML.escape(mixed), "Ủy &lt;ban&gt; \u{FFFD}e\u{0302}\u{0301} &amp; &quot;Hòa Tiến&quot;")
    }

    /// Every phrase has its words in both languages, and the two differ where they should.
    func testEveryPhraseHasBothLanguages() {
        for phrase in Phrase.allCases {
            XCTAssertFalse(phrase.text(in: .vi).isEmpty, "\(phrase)")
            XCTAssertFalse(phrase.text(in: .en).isEmpty, "\(phrase)")
        }
        XCTAssertEqual(Phrase.overview.text(in: .vi), "Tổng quan")
        XCTAssertEqual(Phrase.overview.text(in: .en), "Overview")
    }

    /// The layout escapes the viewer's name and offers the other language on the same page.
    func testLayoutEscapesTheViewerAndTogglesTheLanguage() {
        let user = ConsoleUser(login: "a", displayName: "<script>x</script>", role: .quanTri, identity: nil, passwordHash: "")
        let page = Layout.page(title: "T", "<p>body</p>", PageContext(language: .vi, viewer: (user, "tok"), path: "/users"))
        XCTAssertTrue(page.rendered.contains("&lt;script&gt;x&lt;/script&gt;"))
        XCTAssertFalse(page.rendered.contains("<script>"))
        XCTAssertTrue(page.rendered.contains("href=\"/users?lang=en\">English</a>"))
        XCTAssertTrue(page.rendered.contains("<input type=\"hidden\" name=\"csrf\" value=\"tok\">"))
        XCTAssertTrue(page.rendered.contains("<a href=\"/users\">Người dùng</a>"))
    }
}

import DocumentModel
import XCTest

/// The names a sender chooses, made safe for the clerks' Windows share (issue 16), and the types
/// set aside. A table of hostile names and what becomes of them.
final class UnitShareFileNameTests: XCTestCase {
    func testHostileNamesAreMadeSafe() {
        let table: [(String, String, String)] = [
            ("quyết định.pdf", "quyết định.pdf", "an ordinary name stays as it is"),
            ("Quye\u{0302}\u{0301}t định.pdf", "Quyết định.pdf", "NFC"),
            ("hoadon\u{202E}fdp.exe", "hoadonfdp.exe", "right-to-left override removed: the real extension shows"),
            ("a\u{202A}b\u{202B}c\u{202C}d\u{202D}e\u{2066}f\u{2067}g\u{2068}h\u{2069}i\u{200E}j\u{200F}k.pdf", "abcdefghijk.pdf", "every embedding, isolate and mark"),
            ("bao\u{7}cao\u{0}.pdf", "baocao.pdf", "control characters removed"),
            ("dòng\nmới.pdf", "dòng mới.pdf", "a line break becomes a space"),
            ("a<b>.pdf", "a-b-.pdf", "invalid on Windows"),
            ("x:y\"z|w?v*u\\t/s.doc", "x-y-z-w-v-u-t-s.doc", "every character Windows refuses"),
            ("CON.txt", "_CON.txt", "device name with an extension"),
            ("con", "_con", "in any case"),
            ("NUL.tar.gz", "_NUL.tar.gz", "Windows reads the part before the first dot"),
            ("COM1.pdf", "_COM1.pdf", ""), ("LPT9", "_LPT9", ""), ("COM¹.txt", "_COM¹.txt", "superscript digits too"),
            ("PRN .txt", "_PRN .txt", "trailing spaces before the dot ignored by Windows"),
            ("AUX1.txt", "AUX1.txt", "not a device"), ("CONTRACT.pdf", "CONTRACT.pdf", "not a device"),
            ("bao cao. . ", "bao cao", "trailing dots and spaces"),
            ("..ẩn.pdf", "ẩn.pdf", "not hidden"),
            ("  cách.pdf", "cách.pdf", "no leading spaces"),
            ("...", "tep-dinh-kem", "nothing left"),
            ("\u{202E}", "tep-dinh-kem", "nothing left"),
        ]
        for (hostile, expected, why) in table {
            XCTAssertEqual(ShareFileName.attachment(hostile), expected, "\(hostile.debugDescription): \(why)")
        }
    }

    func testLengthIsBoundedKeepingTheExtension() {
        let long = ShareFileName.attachment(String(repeating: "Đ", count: 300) + ".pdf")
        XCTAssertLessThanOrEqual(long.utf8.count, 255)
        XCTAssertTrue(long.hasSuffix("Đ.pdf"), "cut on a character, before the extension")
        let numbered = ShareFileName.numbered(long, 12)
        XCTAssertLessThanOrEqual(numbered.utf8.count, 255)
        XCTAssertTrue(numbered.hasSuffix("Đ (12).pdf"), numbered)
        XCTAssertEqual(ShareFileName.numbered("thu moi.pdf", 2), "thu moi (2).pdf")
        XCTAssertEqual(ShareFileName.numbered("README", 3), "README (3)")
    }

    func testDangerousTypesAreFoundAfterNormalisation() {
        let dangerous = ["desktop.ini", "Desktop.INI", "thu moi.url", "lối tắt.lnk", "x.scf", "a.library-ms", "b.searchConnector-ms",
                         "hoadon\u{202E}fdp.exe", "setup.exe. ", "run.BAT", "s.ps1", "m.psm1", "v.vbs", "j.js", "h.hta", "r.reg", "autorun.inf",
                         "d.dll", "c.cpl", "a.jar", "x.application", "x.appref-ms", "g.gadget", "c.msc", "w.wsf", "p.pif", "s.scr", "i.msi"]
        for name in dangerous {
            XCTAssertNotNil(ShareFileName.dangerReason(ShareFileName.attachment(name)), name.debugDescription)
        }
        for name in ["quyết định.pdf", "bảng.xlsx", "CON.txt", "a<b>.pdf", "exe", "notes.exe.pdf", "chữ ký.p7s"] {
            XCTAssertNil(ShareFileName.dangerReason(ShareFileName.attachment(name)), name)
        }
        XCTAssertTrue(ShareFileName.dangerReason("desktop.ini")!.vi.contains("đăng nhập"))
    }

    func testTextFromASenderCannotReadBackwards() {
        XCTAssertEqual(ShareFileName.visible("hoadon\u{202E}fdp.exe\tok\n"), "hoadon[U+202E]fdp.exe\tok\n")
        XCTAssertEqual(ShareFileName.visible("a\u{1B}[31m"), "a[U+001B][31m")
    }
}

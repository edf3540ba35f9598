import DocumentModel
import EdXML
import Foundation
import XCTest
@testable import GatewayCore

/// How an incoming document is named and described for the clerks (pure).
final class UnitInboxFolderTests: XCTestCase {
    /// The header of the inbox folder's tests (`InboxFolderShareTests` too).
    static let header = MessageHeader(
        from: Organization(organId: "000.00.00.H41", organName: "UBND tỉnh Quảng Trị"), to: [Organization(organId: "000.00.20.H13")],
        code: DocumentCode(number: "125", notation: "QĐ-UBND"), promulgationInfo: PromulgationInfo(place: "Quảng Trị", date: "2026/11/20"),
        documentType: DocumentType(type: "1", typeDetail: "Quyết định"), subject: "Về việc phòng chống bão số 9",
        signerInfo: SignerInfo(position: "Chủ tịch", fullName: "Nguyễn Văn An"), otherInfo: OtherInfo(priority: 3))
    var header: MessageHeader { Self.header }

    func testTheNameReadsLikeTheRegisterAndIsSafe() {
        let received = Date(timeIntervalSince1970: 1_795_000_000)
        XCTAssertEqual(InboxFolder.name(for: header, receivedAt: received), "2026-11-20 125-QĐ-UBND UBND tỉnh Quảng Trị",
                       "the notation's slash cannot be in a file name")
        var undated = header
        undated.promulgationInfo.date = nil
        undated.from.organName = nil
        XCTAssertEqual(InboxFolder.name(for: undated, receivedAt: received), "2026-11-18 125-QĐ-UBND 000.00.00.H41",
                       "no date: the day it arrived, in Vietnam (18:06 there)")
        XCTAssertEqual(InboxFolder.safeName("..ẩn:\u{7}tên*?  dài. "), "ẩn-tên-- dài", "not hidden, no control character, no trailing dot")
        XCTAssertEqual(InboxFolder.safeName("UBND\u{202E}xa\tAn"), "UBNDxa An", "no override character; a tab is a space")
        XCTAssertEqual(InboxFolder.safeName("NUL"), "_NUL", "a device name is no folder on Windows")
        XCTAssertEqual(InboxFolder.safeName("Quye\u{0302}\u{0301}t định"), "Quyết định", "NFC")
        XCTAssertEqual(InboxFolder.safeName("/"), "-")
        XCTAssertEqual(InboxFolder.safeName("..."), "van-ban")
        let long = InboxFolder.safeName(String(repeating: "Đ", count: 200))
        XCTAssertLessThanOrEqual(long.utf8.count, 180)
        XCTAssertTrue(long.allSatisfy { $0 == "Đ" }, "cut on a character, never inside one")
    }

    func testTheInformationFileHasTheRegistersFields() {
        let text = InboxFolder.information(header, key: "000.00.00.H41,2026/11/20,125/QĐ-UBND", hubID: 7,
                                           receivedAt: Date(timeIntervalSince1970: 1_795_000_000), attachments: ["quyết định.pdf"])
        XCTAssertEqual(text, """
            Nơi gửi / From: UBND tỉnh Quảng Trị (000.00.00.H41)
            Số, ký hiệu / Number: 125/QĐ-UBND
            Ngày ban hành / Date: 2026/11/20
            Loại văn bản / Type: Quyết định
            Trích yếu / Subject: Về việc phòng chống bão số 9
            Độ khẩn / Priority: Hỏa tốc
            Người ký / Signed by: Chủ tịch Nguyễn Văn An
            Mã văn bản / Document id: 000.00.00.H41,2026/11/20,125/QĐ-UBND
            Nhận lúc / Received at: 2026-11-18T18:06:40.000+07:00
            Tệp đính kèm / Attachments: quyết định.pdf
            Số nhận trên hub / Hub inbox id: 7

            """)
    }
}

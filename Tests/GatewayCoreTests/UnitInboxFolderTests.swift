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
    /// The province as the hub's directory names it, the package's own name its claim.
    static let sender = InboxFolder.Sender(code: "000.00.00.H41", directoryName: "UBND tỉnh Quảng Trị", claimedName: "UBND tỉnh Quảng Trị")

    func testTheNameReadsLikeTheRegisterAndIsSafe() {
        let received = Date(timeIntervalSince1970: 1_795_000_000)
        XCTAssertEqual(InboxFolder.name(for: header, sender: Self.sender, receivedAt: received), "2026-11-20 125-QĐ-UBND UBND tỉnh Quảng Trị",
                       "the notation's slash cannot be in a file name")
        var undated = header
        undated.promulgationInfo.date = nil
        let unknown = InboxFolder.Sender(code: "000.00.00.H41", directoryName: nil, claimedName: "UBND tỉnh Quảng Trị")
        XCTAssertEqual(InboxFolder.name(for: undated, sender: unknown, receivedAt: received), "2026-11-18 125-QĐ-UBND 000.00.00.H41",
                       "no date: the day it arrived, in Vietnam (18:06 there); not in the directory: the code, never the package's own name")
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
        let text = InboxFolder.information(header, sender: Self.sender, key: "000.00.00.H41,2026/11/20,125/QĐ-UBND", hubID: 7,
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

extension UnitInboxFolderTests {
    /// Issue 16: an enrolled box that calls itself "UBND tỉnh Quảng Trị" in `From/OrganName`. The
    /// clerks see the hub directory's name for the code the hub checked; the claim only beside it,
    /// marked.
    func testTheSendersNameComesFromTheHubsDirectoryAndItsClaimIsMarked() {
        var forged = header
        forged.from = Organization(organId: "000.00.20.H14", organName: "UBND tỉnh Quảng Trị")
        let sender = InboxFolder.Sender(code: "000.00.20.H14", directoryName: "UBND xã Hòa Lợi", claimedName: forged.from.organName)
        XCTAssertEqual(InboxFolder.name(for: forged, sender: sender, receivedAt: Date(timeIntervalSince1970: 1_795_000_000)),
                       "2026-11-20 125-QĐ-UBND UBND xã Hòa Lợi")
        let text = InboxFolder.information(forged, sender: sender, key: "k", hubID: 7, receivedAt: Date(timeIntervalSince1970: 1_795_000_000),
                                           attachments: [])
        XCTAssertTrue(text.hasPrefix("""
            Nơi gửi / From: UBND xã Hòa Lợi (000.00.20.H14)
            Tên nơi gửi tự ghi trong gói, chưa được kiểm chứng / Name the package gives, the sender's claim, not checked: UBND tỉnh Quảng Trị

            """), text)
        let unlisted = InboxFolder.Sender(code: "000.00.20.H14", directoryName: nil, claimedName: "UBND tỉnh Quảng Trị")
        XCTAssertTrue(InboxFolder.information(forged, sender: unlisted, key: "k", hubID: 7, receivedAt: Date(), attachments: [])
            .hasPrefix("Nơi gửi / From: 000.00.20.H14 (không có trong danh bạ của hub / not in the hub's directory)\n"))
    }
}

import EdXML
import Foundation
import XCTest

final class RoundTripTests: XCTestCase {
    func testPackThenUnpackGivesIdenticalAttachmentsAndMetadata() async throws {
        let directory = try Fixtures.temporaryDirectory()
        let pdf = directory.appendingPathComponent("quyết định.pdf")
        let zip = directory.appendingPathComponent("phụ lục.zip")
        try Fixtures.binaryFile(at: pdf, count: 200_001)
        try Fixtures.binaryFile(at: zip, count: 2, seed: 9)
        let empty = directory.appendingPathComponent("trống.txt")
        try Data().write(to: empty)
        let package = Fixtures.document(attachments: [
            AttachmentInfo(contentId: "a1", name: "quyết định.pdf", contentType: "application/pdf", description: "Văn bản chính"),
            AttachmentInfo(contentId: "a2", name: "phụ lục.zip", contentType: "application/zip"),
            AttachmentInfo(contentId: "a3", name: "trống.txt", contentType: "text/plain", description: "Tệp rỗng"),
        ])
        let out = directory.appendingPathComponent("pkg.edxml").path
        try await PackageWriter.write(package, attachmentFiles: [pdf.path, zip.path, empty.path], to: out)

        let unpacked = directory.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
        let result = try await PackageReader.read(path: out, unpackTo: unpacked.path)
        XCTAssertEqual(result.package, .document(package))
        XCTAssertEqual(result.findings, [])
        XCTAssertEqual(result.attachments.map(\.info.name), ["quyết định.pdf", "phụ lục.zip", "trống.txt"])
        for (source, received) in Swift.zip([pdf, zip, empty], result.attachments) {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: try XCTUnwrap(received.path))), try Data(contentsOf: source))
        }
        XCTAssertEqual(result.attachments[0].size, 200_001)
        // No temporary part is left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: unpacked.path).sorted(), ["phụ lục.zip", "quyết định.pdf", "trống.txt"])
    }

    func testUnpackingTwiceNeverOverwrites() async throws {
        let directory = try Fixtures.temporaryDirectory()
        let file = directory.appendingPathComponent("văn bản.pdf")
        try Fixtures.binaryFile(at: file, count: 1000)
        let package = Fixtures.document(attachments: [AttachmentInfo(contentId: "x", name: "văn bản.pdf", contentType: "application/pdf")])
        let out = directory.appendingPathComponent("p.edxml").path
        try await PackageWriter.write(package, attachmentFiles: [file.path], to: out)
        let target = directory.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try Data("already here".utf8).write(to: target.appendingPathComponent("văn bản.pdf"))
        let result = try await PackageReader.read(path: out, unpackTo: target.path)
        XCTAssertEqual(result.attachments.first?.path, target.appendingPathComponent("văn bản (2).pdf").path)
        XCTAssertEqual(try Data(contentsOf: target.appendingPathComponent("văn bản.pdf")), Data("already here".utf8))
        XCTAssertEqual(try Data(contentsOf: target.appendingPathComponent("văn bản (2).pdf")), try Data(contentsOf: file))
    }

    func testStatusPackageRoundTrip() async throws {
        let directory = try Fixtures.temporaryDirectory()
        for code in StatusCode.known + [StatusCode(rawValue: "99")!] {
            let status = StatusPackage(
                from: Organization(organId: "000.00.00.H41", organName: "UBND tỉnh Nghệ An"),
                responseFor: ResponseFor(organId: "000.00.20.H13", code: "125/QĐ-UBND", promulgationDate: "2025/07/15",
                                         documentId: "000.00.20.H13,2025/07/15,125/QĐ-UBND"),
                staffInfo: StaffInfo(department: "Văn thư", staff: "Nguyễn Thị Ngọc Trâm", mobile: "84912000001"),
                statusCode: code, description: "Lý do: thiếu chữ ký của người có thẩm quyền", timestamp: "2025/07/15 10:00:00")
            let out = directory.appendingPathComponent("st-\(code.rawValue).edxml").path
            try await PackageWriter.write(status, to: out)
            let result = try await PackageReader.read(path: out)
            XCTAssertEqual(result.package, .status(status))
            XCTAssertEqual(result.findings, [])
        }
    }

    func testBuildRefusesFieldsBeyondDecreeLimits() async throws {
        var package = Fixtures.document()
        package.header.subject = String(repeating: "Đ", count: 501)
        package.header.code.number = "123456789012"
        package.header.signerInfo?.fullName = String(repeating: "ễ", count: 51)
        package.header.from.organId = "000.00.20.h13"
        do {
            try await PackageWriter.write(package, attachmentFiles: [], to: "/nonexistent/never-written.edxml")
            XCTFail("built a package breaking the limits")
        } catch EdXMLError.invalidFields(let findings) {
            let paths = Set(findings.map(\.path))
            XCTAssertTrue(paths.contains("MessageHeader/Subject"), "\(findings)")
            XCTAssertTrue(paths.contains("MessageHeader/Code/CodeNumber"))
            XCTAssertTrue(paths.contains("MessageHeader/SignerInfo/FullName"))
            XCTAssertTrue(paths.contains("MessageHeader/From/OrganId"))
        }
        // Exactly at the limit is fine; lengths count characters, not bytes.
        package = Fixtures.document()
        package.header.subject = String(repeating: "Đ", count: 500)
        XCTAssertEqual(package.findings(), [])
    }

    func testBuildRefusesControlCharacters() async throws {
        var package = Fixtures.document()
        package.header.subject = "Trích yếu\u{1}"
        do {
            try await PackageWriter.write(package, attachmentFiles: [], to: "/nonexistent/x.edxml")
            XCTFail("wrote a control character")
        } catch EdXMLError.invalidFields(let findings) {
            XCTAssertTrue(findings.contains { $0.path.hasSuffix("subject") }, "\(findings)")
        }
    }
}

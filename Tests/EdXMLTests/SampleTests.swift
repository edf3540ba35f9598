import EdXML
import Foundation
import XCTest

/// Hand-made samples in the shapes producers send, and hostile or broken ones.
final class SampleTests: XCTestCase {
    private func sample(_ name: String) -> String { Fixtures.samples.appendingPathComponent(name).path }

    /// A sample read as a document. Only a sample that is really absent skips the test; one that
    /// reads as something else (a status) or does not parse fails it, so a parsing regression shows.
    private func document(_ name: String, unpackTo directory: String? = nil) async throws -> (DocumentPackage, ReadResult) {
        let path = sample(name)
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("sample \(name) is absent from the checkout") }
        let result = try await PackageReader.read(path: path, unpackTo: directory)
        guard case .document(let document) = result.package else { throw NotADocument(sample: name) }
        return (document, result)
    }

    struct NotADocument: Error, CustomStringConvertible {
        let sample: String
        var description: String { "sample \(sample) was read as a status package, not a document" }
    }

    func testDefaultNamespaceUUIDDocumentIdAndZippedAttachment() async throws {
        let directory = try Fixtures.temporaryDirectory()
        let (document, result) = try await document("default-namespace-uuid-zip.edxml", unpackTo: directory.path)
        XCTAssertEqual(document.header.documentId, "5f0e9a4c-8d1b-4c39-9f0e-2b7c1d3e4a55")
        XCTAssertEqual(document.header.code.description, "7816/VPCP-TTĐT")
        XCTAssertEqual(document.header.subject, "V/v triển khai Cổng Dịch vụ công quốc gia tại các xã, phường")
        XCTAssertEqual(document.header.signerInfo?.fullName, "Nguyễn Văn Đông")
        XCTAssertEqual(document.header.otherInfo.typedPriority, .urgent)
        XCTAssertEqual(document.attachments, [AttachmentInfo(contentId: "phuluc-01", name: "phụ lục.zip", contentType: "application/zip", description: "Phụ lục nén")])
        XCTAssertEqual(result.findings, [])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: try XCTUnwrap(result.attachments.first?.path)))
        XCTAssertEqual(bytes, try Data(contentsOf: Fixtures.samples.appendingPathComponent("attachment-2.bin")))
    }

    func testSDKShapeWithPrefixedEnvelopeAndUnprefixedAttachments() async throws {
        let directory = try Fixtures.temporaryDirectory()
        let (document, result) = try await document("prefixed-sdk-shape.edxml", unpackTo: directory.path)
        XCTAssertEqual(document.header.from.organName, "Văn phòng Chính phủ")
        XCTAssertEqual(document.header.to.map(\.organId), ["000.00.00.H41"])
        XCTAssertEqual(document.attachments.map(\.name), ["7816-VPCP-TTĐT.pdf", "phụ lục.zip"])
        XCTAssertEqual(result.findings, [])
        let pdf = try Data(contentsOf: URL(fileURLWithPath: try XCTUnwrap(result.attachments[0].path)))
        XCTAssertEqual(pdf, try Data(contentsOf: Fixtures.samples.appendingPathComponent("attachment-1.bin")))
        let zip = try Data(contentsOf: URL(fileURLWithPath: try XCTUnwrap(result.attachments[1].path)))
        XCTAssertEqual(zip, try Data(contentsOf: Fixtures.samples.appendingPathComponent("attachment-2.bin")))
    }

    func testBusinessTypes() async throws {
        let (revocation, _) = try await document("revocation-other-prefix.edxml")
        XCTAssertEqual(revocation.business?.docType, .revocation)
        XCTAssertEqual(revocation.business?.documentId, "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT")
        XCTAssertEqual(revocation.business?.staffInfo.first?.staff, "Lê Thị Thu")

        let (update, _) = try await document("update.edxml")
        XCTAssertEqual(update.business?.docType, .update)
        XCTAssertEqual(update.business?.documentInfo.first?.receivers.map(\.organId), ["000.00.00.H41", "000.00.00.H40"])

        let (replacement, _) = try await document("replacement.edxml")
        XCTAssertEqual(replacement.business?.docType, .replacement)
        XCTAssertEqual(replacement.business?.replacements.first?.organIds, ["000.00.00.H41", "000.00.00.H40"])
    }

    func testEveryStatusCodeAndAnUnknownOne() async throws {
        let template = try String(contentsOfFile: sample("status.edxml"), encoding: .utf8)
        for code in StatusCode.known.map(\.rawValue) + ["42"] {
            let text = template.replacingOccurrences(of: "<edXML:StatusCode>01<", with: "<edXML:StatusCode>\(code)<")
            let result = try await PackageReader.read(bytes: Array(text.utf8))
            guard case .status(let status) = result.package else { return XCTFail("not a status") }
            XCTAssertEqual(status.statusCode.rawValue, code)
            XCTAssertEqual(status.statusCode.name == nil, code == "42")
            XCTAssertEqual(status.from.organId, "000.00.00.H41")
            XCTAssertEqual(status.responseFor.documentId, "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT")
            XCTAssertEqual(status.staffInfo?.staff, "Nguyễn Thị Ngọc Trâm")
            XCTAssertEqual(result.findings, [])
        }
    }

    /// parse → build → parse gives the same values, for every well-formed sample.
    func testParseBuildParseIsStable() async throws {
        for name in ["default-namespace-uuid-zip.edxml", "prefixed-sdk-shape.edxml", "revocation-other-prefix.edxml", "update.edxml",
                     "replacement.edxml", "status.edxml"] {
            let directory = try Fixtures.temporaryDirectory()
            let first = try await PackageReader.read(path: sample(name), unpackTo: directory.path)
            let rebuilt = directory.appendingPathComponent("rebuilt.edxml").path
            switch first.package {
            case .document(let document):
                try await PackageWriter.write(document, attachmentFiles: first.attachments.map { $0.path! }, to: rebuilt)
            case .status(let status):
                try await PackageWriter.write(status, to: rebuilt)
            }
            let second = try await PackageReader.read(path: rebuilt)
            XCTAssertEqual(second.package, first.package, name)
            XCTAssertEqual(second.attachments.map(\.sha256), first.attachments.map(\.sha256), name)
        }
    }

    func testFindingsAreReportedNotFatal() async throws {
        var text = try String(contentsOfFile: sample("update.edxml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "<Priority>1</Priority>", with: "<Priority>7</Priority>")
            .replacingOccurrences(of: "<CodeNumber>7816</CodeNumber>", with: "<CodeNumber>781678167816</CodeNumber>")
            .replacingOccurrences(of: "<To><OrganId>000.00.00.H41</OrganId>", with: "<To><OrganId>H41</OrganId>")
        let result = try await PackageReader.read(bytes: Array(text.utf8))
        let paths = Set(result.findings.map(\.path))
        XCTAssertEqual(paths, ["MessageHeader/OtherInfo/Priority", "MessageHeader/Code/CodeNumber", "MessageHeader/To[1]/OrganId"], "\(result.findings)")
    }

    // MARK: - Refused

    private func assertRefused(_ name: String, _ matches: (EdXMLError) -> Bool, file: StaticString = #filePath, line: UInt = #line) async {
        do {
            _ = try await PackageReader.read(path: sample(name))
            XCTFail("\(name) was accepted", file: file, line: line)
        } catch let error as EdXMLError {
            XCTAssertTrue(matches(error), "\(name): \(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains(" / "), "bilingual message: \(error)", file: file, line: line)
        } catch {
            XCTFail("\(name): \(error)", file: file, line: line)
        }
    }

    func testHostileSamplesAreRefused() async {
        await assertRefused("hostile-doctype.edxml") { $0 == .doctypeRefused }
        await assertRefused("hostile-billion-laughs.edxml") { $0 == .doctypeRefused }
        await assertRefused("hostile-external-entity.edxml") { $0 == .doctypeRefused }
        await assertRefused("hostile-undeclared-entity.edxml") { $0 == .entityRefused("xxe") }
    }

    func testMalformedSamplesAreRefused() async {
        await assertRefused("malformed-wrong-namespace.edxml") { if case .notEdXML = $0 { true } else { false } }
        await assertRefused("malformed-missing-subject.edxml") { $0 == .missingField("MessageHeader/Subject") }
        await assertRefused("malformed-missing-to.edxml") { $0 == .missingField("MessageHeader/To") }
        await assertRefused("malformed-bad-base64.edxml") { if case .attachment = $0 { true } else { false } }
        await assertRefused("malformed-not-closed.edxml") { if case .notWellFormed = $0 { true } else { false } }
    }

    func testDepthAndSizeLimits() async throws {
        let deep = "<edXML xmlns=\"\(EdXML.namespace)\">" + String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100) + "</edXML>"
        do {
            _ = try await PackageReader.read(bytes: Array(deep.utf8))
            XCTFail("accepted 100 levels")
        } catch let error as EdXMLError {
            XCTAssertEqual(error, .tooDeep(limit: ReadLimits().maxDepth))
        }
        var limits = ReadLimits()
        limits.maxMetadataBytes = 1000
        let big = "<edXML xmlns=\"\(EdXML.namespace)\"><x>" + String(repeating: "Đ", count: 2000) + "</x></edXML>"
        do {
            _ = try await PackageReader.read(bytes: Array(big.utf8), limits: limits)
            XCTFail("accepted metadata beyond the limit")
        } catch let error as EdXMLError {
            guard case .tooLarge = error else { return XCTFail("\(error)") }
        }
        limits = ReadLimits()
        limits.maxAttachmentBytes = 100
        do {
            _ = try await PackageReader.read(path: sample("prefixed-sdk-shape.edxml"), limits: limits)
            XCTFail("accepted an attachment beyond the limit")
        } catch let error as EdXMLError {
            guard case .tooLarge = error else { return XCTFail("\(error)") }
        }
    }

    /// Every truncation of a package is refused with an error, never a crash or a value.
    func testEveryTruncationIsRefused() async throws {
        let bytes = Array(try Data(contentsOf: Fixtures.samples.appendingPathComponent("status.edxml")))
        let end = bytes.lastIndex(of: UInt8(ascii: ">"))!
        for length in stride(from: 0, to: end, by: 7) {
            XCTAssertThrowsError(try PackageReader.parse(bytes: Array(bytes[..<length])), "length \(length)")
        }
        XCTAssertNoThrow(try PackageReader.parse(bytes: Array(bytes[...end])))
    }
}

import DocumentModel
import EdXML
import XCTest
@testable import HubCore

/// The pure rules of the hub: package keys, sender check, routing, tus headers, roles, error
/// classes, configuration.
final class UnitHubRulesTests: XCTestCase {
    func document(from: String = "000.00.20.H13", to: [String], id: String? = "000.00.20.H13,2026/11/21,125/QĐ-UBND") -> Package {
        .document(DocumentPackage(header: MessageHeader(
            from: Organization(organId: from), to: to.map { Organization(organId: $0) },
            code: DocumentCode(number: "125", notation: "QĐ-UBND"), subject: "Về việc", documentId: id)))
    }

    func testDocumentKeyIsItsDocumentIdAndItsRecipientsAreTo() throws {
        let summary = try PackageSummary(document(to: ["000.00.00.H41", " 000.00.20.H14 "]))
        XCTAssertEqual(summary, PackageSummary(kind: .document, key: "000.00.20.H13,2026/11/21,125/QĐ-UBND", from: "000.00.20.H13",
                                               recipients: ["000.00.00.H41", "000.00.20.H14"]))
    }

    func testDocumentWithoutIdOrRecipientIsRefused() {
        XCTAssertThrowsError(try PackageSummary(document(to: ["000.00.00.H41"], id: nil))) { XCTAssertEqual(($0 as? HubError)?.code, .missingDocumentId) }
        XCTAssertThrowsError(try PackageSummary(document(to: ["000.00.00.H41"], id: "  "))) { XCTAssertEqual(($0 as? HubError)?.code, .missingDocumentId) }
        XCTAssertThrowsError(try PackageSummary(document(to: []))) { XCTAssertEqual(($0 as? HubError)?.code, .missingRecipient) }
    }

    func testStatusKeyNamesSenderDocumentCodeAndTime() throws {
        let status = Package.status(StatusPackage(
            from: Organization(organId: "000.00.20.H13"),
            responseFor: ResponseFor(organId: "000.00.00.H41", documentId: "000.00.00.H41,2026/11/21,9/UBND-VP"),
            statusCode: .arrived, timestamp: "2026/11/21 21:40:12"))
        let summary = try PackageSummary(status)
        XCTAssertEqual(summary.key, "status:000.00.20.H13|000.00.00.H41,2026/11/21,9/UBND-VP|01|2026/11/21 21:40:12")
        XCTAssertEqual(summary.recipients, ["000.00.00.H41"])
        XCTAssertEqual(summary.kind, .status)
    }

    func testABoxSendsOnlyAsItself() throws {
        let summary = try PackageSummary(document(to: ["000.00.00.H41"]))
        XCTAssertNoThrow(try summary.checkSender(certificateCode: "000.00.20.H13"))
        XCTAssertThrowsError(try summary.checkSender(certificateCode: "000.00.20.H14")) { error in
            let error = error as? HubError
            XCTAssertEqual(error?.code, .senderMismatch)
            XCTAssertEqual(error?.code.httpStatus, 403)
            XCTAssertTrue(error?.vi.contains("chứng thư số") == true)
        }
    }

    func testRoutingServedCommunesGetInboxesOthersOneHandOff() throws {
        let served: Set = ["000.00.20.H13", "000.00.20.H14"]
        let summary = try PackageSummary(document(to: ["000.00.20.H14", "000.00.00.H41", "000.00.00.G22", "000.00.20.H14"]))
        XCTAssertEqual(Routing.fromBox(summary, served: served), Routing(communes: ["000.00.20.H14"], handOff: true))
        let local = try PackageSummary(document(to: ["000.00.20.H14"]))
        XCTAssertEqual(Routing.fromBox(local, served: served), Routing(communes: ["000.00.20.H14"], handOff: false))
        XCTAssertEqual(try Routing.fromOffice(summary, served: served), Routing(communes: ["000.00.20.H14"], handOff: false))
        let upward = try PackageSummary(document(to: ["000.00.00.H41"]))
        XCTAssertThrowsError(try Routing.fromOffice(upward, served: served)) { XCTAssertEqual(($0 as? HubError)?.code, .noServedRecipient) }
    }

    func testUploadExpiresIsAnHTTPDate() {
        // RFC 9110 §5.6.7's own example, and a date in November 2026.
        XCTAssertEqual(Tus.httpDate(Date(timeIntervalSince1970: 784_111_777)), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(Tus.httpDate(Date(timeIntervalSince1970: 1_795_000_000)), "Wed, 18 Nov 2026 11:06:40 GMT")
    }

    func testTusHeaders() throws {
        XCTAssertNoThrow(try Tus.checkVersion("1.0.0"))
        for bad in [nil, "", "0.2.2", "1.0"] as [String?] {
            XCTAssertThrowsError(try Tus.checkVersion(bad)) { XCTAssertEqual(($0 as? HubError)?.code, .tusVersion) }
        }
        XCTAssertEqual(try Tus.parseNonNegative("0", name: "Upload-Offset"), 0)
        XCTAssertEqual(try Tus.parseNonNegative(" 104857600 ", name: "Upload-Length"), 104_857_600)
        for bad in [nil, "", "-1", "+5", "1e3", "12a", "99999999999999999999"] as [String?] {
            XCTAssertThrowsError(try Tus.parseNonNegative(bad, name: "Upload-Length"), "\(bad ?? "nil")")
        }
        // The tus specification's own example, plus a Vietnamese value and a key without value.
        let metadata = try Tus.parseMetadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential,key \(Data("000.00.20.H13,2026/11/21,125/QĐ-UBND".utf8).base64EncodedString())")
        XCTAssertEqual(metadata, ["filename": "world_domination_plan.pdf", "is_confidential": "", "key": "000.00.20.H13,2026/11/21,125/QĐ-UBND"])
        XCTAssertEqual(try Tus.parseMetadata(nil), [:])
        for bad in ["a !!!", "a x y z", "a YQ==,a YQ==", ",", "k\u{e9} YQ=="] {
            XCTAssertThrowsError(try Tus.parseMetadata(bad), bad)
        }
    }

    func testRolesFromTheCertificateName() throws {
        let served: Set = ["000.00.20.H13"], office: Set = ["000.00.00.H41"]
        XCTAssertEqual(try ClientIdentity.role(commonName: "000.00.20.H13", served: served, officeCodes: office), .box("000.00.20.H13"))
        XCTAssertEqual(try ClientIdentity.role(commonName: "000.00.00.H41", served: served, officeCodes: office), .office("000.00.00.H41"))
        for name in [nil, "000.00.20.H99", ""] as [String?] {
            XCTAssertThrowsError(try ClientIdentity.role(commonName: name, served: served, officeCodes: office)) {
                XCTAssertEqual(($0 as? HubError)?.code, .unknownClient)
            }
        }
    }

    func testPermanentAndTransientErrors() {
        for code in HubError.Code.allCases {
            let status = code.httpStatus
            XCTAssertEqual(code.retry, status >= 500 || status == 429, code.rawValue)
            if code.retry && code != .internal { XCTAssertNotNil(code.retryAfterSeconds, code.rawValue) }
        }
        XCTAssertFalse(HubError.Code.keyConflict.retry)
        XCTAssertTrue(HubError.Code.storage.retry)
    }

    func testConfigurationIsStrictAndKeepsVietnamese() throws {
        let text = """
            [server]
            listen = "127.0.0.1:9443"
            certificate = "/c.pem"
            key = "/k.pem"
            client_ca = "/ca.pem"
            [hub]
            code = "000.00.00.H41"
            name = "UBND tỉnh Quảng Trị"
            data_directory = "/d"
            [office]
            codes = ["000.00.00.H41"]
            [[agency]]
            code = "000.00.20.H13"
            name = "UBND xã Hòa Tiến"
            served = true
            """
        let config = try HubConfiguration.parse(text)
        XCTAssertEqual(config.listenHost, "127.0.0.1")
        XCTAssertEqual(config.listenPort, 9443)
        XCTAssertEqual(config.hubName, "UBND tỉnh Quảng Trị")
        XCTAssertEqual(config.agencies, [.init(code: "000.00.20.H13", name: "UBND xã Hòa Tiến", served: true)])
        XCTAssertEqual(config.resolvedHandoffDirectory, "/d/handoff")
        XCTAssertEqual(config.officeCodes, ["000.00.00.H41"])
        XCTAssertThrowsError(try HubConfiguration.parse(text + "\n[limits]\nmax_wait = 5\n")) {
            XCTAssertTrue("\($0)".contains("limits.max_wait"), "\($0)")
        }
        XCTAssertThrowsError(try HubConfiguration.parse(text.replacingOccurrences(of: "listen = \"127.0.0.1:9443\"", with: "listen = \"9443\"")))
        // Issue 16's limits: per-box upload quotas (never below the package limit) and the header timeout.
        XCTAssertEqual(config.maxOpenUploadsPerBox, 32)
        XCTAssertEqual(config.maxOpenUploadBytesPerBox, 4 << 30)
        XCTAssertEqual(config.headerTimeoutSeconds, 10)
        let limited = try HubConfiguration.parse(text + "\n[limits]\nmax_open_uploads_per_box = 3\nmax_open_upload_bytes_per_box = 2147483648\nheader_timeout_seconds = 2\n")
        XCTAssertEqual([limited.maxOpenUploadsPerBox, Int(limited.maxOpenUploadBytesPerBox), limited.headerTimeoutSeconds], [3, 2 << 30, 2])
        XCTAssertThrowsError(try HubConfiguration.parse(text + "\n[limits]\nmax_open_upload_bytes_per_box = 1000\n")) {
            XCTAssertTrue("\($0)".contains("max_open_upload_bytes_per_box"), "\($0)")
        }
        XCTAssertThrowsError(try HubConfiguration.parse(text + "\n[limits]\nheader_timeout_seconds = 0\n"))
        XCTAssertThrowsError(try HubConfiguration.parse("[hub]\ncode = \"x\"\n")) { XCTAssertTrue("\($0)".contains("hub.name")) }
        // Front proxies (docs/hubd.md, "Behind nginx"): none by default; a proxy's CN may not also
        // be a commune or the office.
        XCTAssertEqual(config.proxyCodes, [])
        XCTAssertEqual(try HubConfiguration.parse(text + "\n[proxy]\ncodes = [\"proxy.hub\"]\n").proxyCodes, ["proxy.hub"])
        for clash in ["000.00.00.H41", "000.00.20.H13"] {
            XCTAssertThrowsError(try HubConfiguration.parse(text + "\n[proxy]\ncodes = [\"\(clash)\"]\n")) {
                XCTAssertTrue("\($0)".contains("proxy.codes"), "\($0)")
            }
        }
        XCTAssertThrowsError(try HubConfiguration.parse(text + "\n[proxy]\ncodes = \"proxy.hub\"\n"))
        XCTAssertThrowsError(try HubConfiguration.parse(text + "\n[proxy]\nnames = [\"proxy.hub\"]\n"))
    }

    func testReceiptContentIsStableJSON() throws {
        let content = RelayReceipt(key: "000.00.20.H13,2026/11/21,125/QĐ-UBND", kind: "document", sha256: "ab", size: 3,
                                     from: "000.00.20.H13", receivedAt: "2026-11-21T21:40:12+07:00", hub: .init(code: "000.00.00.H41", name: "UBND tỉnh"))
        XCTAssertEqual(String(decoding: try content.encoded(), as: UTF8.self),
                       #"{"from":"000.00.20.H13","hub":{"code":"000.00.00.H41","name":"UBND tỉnh"},"key":"000.00.20.H13,2026/11/21,125/QĐ-UBND","kind":"document","#
                       + #""received_at":"2026-11-21T21:40:12+07:00","sha256":"ab","size":3,"type":"hubd-receipt/1"}"#)
    }
}

import Foundation
import HubCore
import TestSupport
import XCTest

/// Enrolment at the hub (issue 20): the real hubd with its own CA (`[ca]`, the clients' CA of the
/// test PKI) and an enrolment listener; tokens made by `hubd enroll-token`, CSRs made by
/// `openssl req`, sent by curl as an EST client would, answers read by `openssl pkcs7` and judged
/// by `openssl verify` — independent of the code under test.
final class HubdEnrolmentTests: XCTestCase, HubClientTesting {
    var hub: RunningHub!
    var enrolmentPort = 0

    override func setUp() async throws {
        enrolmentPort = freeLoopbackPort()
        // With nginx's proxy code too: one test puts nginx in front (packaging/nginx-hubd.conf).
        hub = try await startHub(extraConfiguration: RunningNginx.hubConfiguration + """
            [enrolment]
            listen = "127.0.0.1:\(enrolmentPort)"
            certificate_lifetime = "10m"
            """, crl: true)
        XCTAssertTrue(hub.waitForLog("hubd enrolment listening"))
    }

    override func tearDown() async throws { hub?.stop() }

    func hubd(_ arguments: [String]) -> (status: Int32, out: String, err: String) {
        runProgram(RunningHub.binary, arguments + ["--config", hub.directory + "/hubd.toml"])
    }

    func newToken(_ agency: String = RunningHub.commune) throws -> String {
        let made = hubd(["enroll-token", "create", "--agency", agency])
        XCTAssertEqual(made.status, 0, made.err)
        return made.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A new key and a CSR for `subject` by openssl; returns the key file and the CSR's DER file.
    func makeRequest(_ name: String, subject: String = "/CN=\(RunningHub.commune)", key: String = "ec") -> (key: String, csr: String) {
        let (keyFile, csr) = (files + "/\(name).key", files + "/\(name).csr.der")
        let newkey = key == "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-newkey", key]
        let made = runProgram("/usr/bin/openssl", ["req", "-new"] + newkey + ["-nodes", "-keyout", keyFile, "-subj", subject, "-outform", "DER", "-out", csr])
        XCTAssertEqual(made.status, 0, made.err)
        return (keyFile, csr)
    }

    /// The CSR's base64, as EST sends it (with line breaks).
    func base64Body(_ csr: String) throws -> String {
        let body = files + "/\(UUID().uuidString).b64"
        try Data(contentsOf: URL(fileURLWithPath: csr)).base64EncodedString(options: [.lineLength64Characters]).write(toFile: body, atomically: true, encoding: .utf8)
        return body
    }

    /// POST simpleenroll with HTTP Basic, no client certificate, as curl does it.
    /// `port`: another than hubd's enrolment listener (nginx's enrolment block).
    func enrol(agency: String, token: String, csr: String, answer: String? = nil, port: Int? = nil) throws
        -> (http: Int, body: String, headers: String, exit: Int32, err: String) {
        hub.curl(["-u", "\(agency):\(token)", "-H", "Content-Type: application/pkcs10", "--data-binary", "@" + (try base64Body(csr)),
                  "/.well-known/est/simpleenroll"], as: nil, output: answer, port: port ?? enrolmentPort)
    }

    /// POST simplereenroll on `port` (hubd's main listener, or nginx's mTLS block) with the box's
    /// current certificate and key; returns curl's output ending in the HTTP status.
    func reenrol(_ csr: String, certificate: String, key: String, answer: String? = nil, port: Int? = nil) throws -> (status: Int32, out: String, err: String) {
        runProgram("/usr/bin/curl", ["-sS", "-o", answer ?? "/dev/stdout", "-w", "\n%{http_code}", "--cacert", hub.hubCA.root,
                                     "--cert", certificate, "--key", key, "-H", "Content-Type: application/pkcs10",
                                     "--data-binary", "@" + (try base64Body(csr)),
                                     "https://localhost:\(port ?? hub.port)/.well-known/est/simplereenroll"])
    }

    /// The certificates of a base64 certs-only answer, by openssl, as PEM files (issued first).
    func certificates(inAnswer answer: String) -> [String] {
        let der = answer + ".der"
        XCTAssertEqual(runProgram("/usr/bin/openssl", ["base64", "-d", "-in", answer, "-out", der]).status, 0)
        let printed = runProgram("/usr/bin/openssl", ["pkcs7", "-inform", "DER", "-in", der, "-print_certs"])
        XCTAssertEqual(printed.status, 0, printed.err)
        var files: [String] = []
        for (index, block) in printed.out.components(separatedBy: "-----BEGIN CERTIFICATE-----").dropFirst().enumerated() {
            let path = answer + "-\(index).pem"
            try? ("-----BEGIN CERTIFICATE-----" + block.components(separatedBy: "-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n")
                .write(toFile: path, atomically: true, encoding: .utf8)
            files.append(path)
        }
        return files
    }

    func publicKey(certificate: String) -> String {
        runProgram("/usr/bin/openssl", ["x509", "-in", certificate, "-noout", "-pubkey"]).out
    }

    func publicKey(key: String) -> String {
        runProgram("/usr/bin/openssl", ["pkey", "-in", key, "-pubout"]).out
    }

    func testATokenEnrolsOnceAndTheIssuedCertificateOpensTheMainListener() throws {
        let token = try newToken()
        XCTAssertNotNil(EnrolmentToken(text: token), token)
        let (key, csr) = makeRequest("box-new")
        let answer = files + "/answer.b64"
        let enrolled = try enrol(agency: RunningHub.commune, token: token, csr: csr, answer: answer)
        XCTAssertEqual(enrolled.http, 200, enrolled.err + ((try? String(contentsOfFile: answer, encoding: .utf8)) ?? ""))
        XCTAssertEqual(hub.header("Content-Type", in: enrolled.headers), "application/pkcs7-mime; smime-type=certs-only")
        XCTAssertEqual(hub.header("Content-Transfer-Encoding", in: enrolled.headers), "base64")

        // openssl reads the answer: the issued certificate first, then the CA's.
        let certificates = certificates(inAnswer: answer)
        XCTAssertEqual(certificates.count, 2)
        guard certificates.count == 2 else { return }
        let issued = certificates[0]
        XCTAssertEqual(publicKey(certificate: certificates[1]), publicKey(certificate: hub.clients.root))
        let verified = runProgram("/usr/bin/openssl", ["verify", "-CAfile", hub.clients.root, "-purpose", "sslclient", issued])
        XCTAssertEqual(verified.status, 0, verified.out + verified.err)
        let text = runProgram("/usr/bin/openssl", ["x509", "-in", issued, "-noout", "-text"]).out
        XCTAssertTrue(text.contains("Subject: CN = \(RunningHub.commune), O = UBND x"), text)
        XCTAssertTrue(text.contains("TLS Web Client Authentication") && !text.contains("TLS Web Server Authentication"), text)
        XCTAssertTrue(text.contains("Digital Signature") && text.contains("CA:FALSE"), text)
        XCTAssertTrue(text.contains("X509v3 Subject Key Identifier") && text.contains("X509v3 Authority Key Identifier"), text)
        // The key is the box's own, from its CSR; the key never left the test's directory.
        XCTAssertEqual(publicKey(certificate: issued), publicKey(key: key))

        // The certificate opens the main mTLS listener: the box can relay with it.
        let directory = runProgram("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", hub.hubCA.root,
                                                     "--cert", issued, "--key", key, "https://localhost:\(hub.port)/v1/directory"])
        XCTAssertEqual(directory.out, "200", directory.err)

        // The same token again: refused, with the one answer every refusal gets.
        let again = try enrol(agency: RunningHub.commune, token: token, csr: makeRequest("box-again").csr)
        XCTAssertEqual(again.http, 401)
        XCTAssertEqual(errorCode(again.body), "enrolment_refused")
        XCTAssertNotNil(hub.header("WWW-Authenticate", in: again.headers))
        XCTAssertTrue(hub.waitForLog("enrolment refused"))

        // The hub's record: one certificate, with the CSR whose key is the certificate's, and
        // `list` shows the token used, never the token itself.
        let records = try EnrolmentRecords(dataDirectory: hub.data).issued(agency: RunningHub.commune)
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(records.first?.csr, Array(try Data(contentsOf: URL(fileURLWithPath: csr))))
        let listed = hubd(["enroll-token", "list"])
        XCTAssertTrue(listed.out.contains("\(RunningHub.commune)\t") && listed.out.contains("\tused"), listed.out)
        XCTAssertFalse(listed.out.contains(token), listed.out)
        let log = try String(contentsOfFile: hub.log, encoding: .utf8)
        XCTAssertFalse(log.contains(token), "the token is in the hub's log")
        XCTAssertTrue(log.contains("box certificate issued"), log)
    }

    func testExpiredRevokedOtherAgencysTokensAndBadRequestsAreRefused() throws {
        let request = makeRequest("box").csr
        // Expired: made directly in the running hub's database, an hour past its end.
        let records = try EnrolmentRecords(dataDirectory: hub.data)
        let expired = try records.createTokens(for: [(RunningHub.commune, nil)], expiresAt: Date().addingTimeInterval(-3600))[0].token.text
        XCTAssertEqual(try enrol(agency: RunningHub.commune, token: expired, csr: request).http, 401)
        // The log says why (the client is told nothing more than 401).
        XCTAssertTrue(hub.waitForLog("enrolment refused"))
        let line = try String(contentsOfFile: hub.log, encoding: .utf8).split(separator: "\n").first { $0.contains("enrolment refused") } ?? ""
        XCTAssertTrue(line.contains("expired") && line.contains(RunningHub.commune), String(line))

        // Revoked with `hubd enroll-token revoke`.
        let revoked = try newToken()
        let revoking = hubd(["enroll-token", "revoke", "--agency", RunningHub.commune])
        XCTAssertEqual(revoking.status, 0, revoking.err)
        XCTAssertEqual(try enrol(agency: RunningHub.commune, token: revoked, csr: request).http, 401)

        // A token made for the neighbour: with this commune's code it does not open (401); with
        // the neighbour's code and this commune's CN it yields nothing either (400).
        let neighbours = try newToken(RunningHub.neighbour)
        XCTAssertEqual(try enrol(agency: RunningHub.commune, token: neighbours, csr: request).http, 401)
        let crossed = try enrol(agency: RunningHub.neighbour, token: neighbours, csr: request)
        XCTAssertEqual(crossed.http, 400, crossed.body)
        XCTAssertEqual(errorCode(crossed.body), "bad_request")
        XCTAssertTrue(crossed.body.contains("CN"), crossed.body)

        // A CSR whose signature does not verify (its last byte changed), and one that is no CSR.
        let token = try newToken()
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: request)))
        bytes[bytes.count - 1] ^= 0x01
        let tampered = files + "/tampered.csr.der"
        try Data(bytes).write(to: URL(fileURLWithPath: tampered))
        let badSignature = try enrol(agency: RunningHub.commune, token: token, csr: tampered)
        XCTAssertEqual(badSignature.http, 400, badSignature.body)
        XCTAssertTrue(badSignature.body.contains("signature"), badSignature.body)
        // An RSA key below 2048 bits is refused.
        let small = try enrol(agency: RunningHub.commune, token: token, csr: makeRequest("small", key: "rsa:1024").csr)
        XCTAssertEqual(small.http, 400, small.body)
        // Over 16 KiB: 413 before anything is read further.
        let large = files + "/large.der"
        try Data(repeating: 0x41, count: 20_000).write(to: URL(fileURLWithPath: large))
        XCTAssertEqual(try enrol(agency: RunningHub.commune, token: token, csr: large).http, 413)
        // None of these spent the token: it still enrols.
        XCTAssertEqual(try enrol(agency: RunningHub.commune, token: token, csr: request).http, 200)

        // Only the CSR that was answered is kept, none of the refused ones.
        let kept = try EnrolmentRecords(dataDirectory: hub.data).issued(agency: RunningHub.commune)
        XCTAssertEqual(kept.map(\.csr), [Array(try Data(contentsOf: URL(fileURLWithPath: request)))])
        XCTAssertTrue(try EnrolmentRecords(dataDirectory: hub.data).issued(agency: RunningHub.neighbour).isEmpty)

        let states = hubd(["enroll-token", "list"]).out
        for state in ["\texpired", "\trevoked", "\tused", "\topen"] { XCTAssertTrue(states.contains(state), states) }

        // Only what the enrolment listener serves: no hub API there.
        XCTAssertEqual(hub.curl(["/v1/directory"], as: nil, port: enrolmentPort).http, 404)
    }

    func testAWholeProvinceFromACSVFileAllOrNothing() throws {
        let csv = files + "/communes.csv"
        try """
            ma,ten
            \(RunningHub.commune),"UBND xã Hòa Tiến, huyện Hòa Vang"
            # a comment
            \(RunningHub.neighbour),UBND xã Hòa Lợi

            """.write(toFile: csv, atomically: true, encoding: .utf8)
        let out = files + "/tokens.csv"
        let made = hubd(["enroll-token", "create", "--from", csv, "--out", out])
        XCTAssertEqual(made.status, 0, made.err)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(lines.map { $0[0] }, [RunningHub.commune, RunningHub.neighbour])
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int, 0o600)
        // Each token enrols its own commune; O is the directory's name ([[agency]] name), which
        // receipts use too, whatever the CSV wrote.
        let answer = files + "/csv.b64"
        XCTAssertEqual(try enrol(agency: RunningHub.commune, token: lines[0][1], csr: makeRequest("csv").csr, answer: answer).http, 200)
        let subject = runProgram("/usr/bin/openssl", ["x509", "-in", certificates(inAnswer: answer)[0], "-noout", "-subject", "-nameopt", "utf8"]).out
        XCTAssertTrue(subject.hasSuffix("O=UBND xã Hòa Tiến\n"), subject)

        // One code the hub does not serve: nothing is made.
        try "\(RunningHub.third),UBND xã Hòa Thạnh\n000.00.20.H99,Xã lạ\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let refused = hubd(["enroll-token", "create", "--from", csv])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.err.contains("000.00.20.H99"), refused.err)
        XCTAssertFalse(hubd(["enroll-token", "list"]).out.contains(RunningHub.third))
    }

    func testCACertsParseOnBothListeners() throws {
        let checked = hubd(["check-config"])
        XCTAssertTrue(checked.out.contains("enrolment: 127.0.0.1:\(enrolmentPort)"), checked.out + checked.err)
        for (port, client) in [(enrolmentPort, nil), (hub.port, "box")] as [(Int, String?)] {
            let answer = files + "/cacerts-\(port).b64"
            let got = hub.curl(["/.well-known/est/cacerts"], as: client, output: answer, port: port)
            XCTAssertEqual(got.http, 200, got.err)
            XCTAssertEqual(hub.header("Content-Type", in: got.headers), "application/pkcs7-mime")
            let certificates = certificates(inAnswer: answer)
            XCTAssertEqual(certificates.count, 1)
            XCTAssertEqual(certificates.first.map(publicKey(certificate:)), publicKey(certificate: hub.clients.root))
        }
    }

    func testRenewalOverMutualTLSGivesANewKeysCertificateAndRevokeByAgencyCoversWhatWasIssued() throws {
        let (key, csr) = makeRequest("box-first")
        let answer = files + "/first.b64"
        XCTAssertEqual(try enrol(agency: RunningHub.commune, token: try newToken(), csr: csr, answer: answer).http, 200)
        let first = certificates(inAnswer: answer)[0]

        // Renewal with the issued certificate, a new key, the same CN.
        let (newKey, newCSR) = makeRequest("box-second")
        let renewed = files + "/renewed.b64"
        let reenrol = { (request: String, output: String?) in try self.reenrol(request, certificate: first, key: key, answer: output) }
        let done = try reenrol(newCSR, renewed)
        XCTAssertTrue(done.out.hasSuffix("200"), done.out + done.err)
        let second = certificates(inAnswer: renewed)[0]
        XCTAssertEqual(publicKey(certificate: second), publicKey(key: newKey))
        XCTAssertNotEqual(publicKey(certificate: second), publicKey(certificate: first))
        XCTAssertEqual(runProgram("/usr/bin/openssl", ["verify", "-CAfile", hub.clients.root, second]).status, 0)
        // It opens the main listener.
        let directory = runProgram("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", hub.hubCA.root,
                                                     "--cert", second, "--key", newKey, "https://localhost:\(hub.port)/v1/directory"])
        XCTAssertEqual(directory.out, "200")

        // Another subject, or the same key again: refused.
        let otherSubject = try reenrol(makeRequest("other", subject: "/CN=\(RunningHub.neighbour)").csr, nil)
        XCTAssertTrue(otherSubject.out.hasSuffix("400"), otherSubject.out)
        let sameKey = files + "/same-key.csr.der"
        XCTAssertEqual(runProgram("/usr/bin/openssl", ["req", "-new", "-key", key, "-subj", "/CN=\(RunningHub.commune)", "-outform", "DER", "-out", sameKey]).status, 0)
        let reused = try reenrol(sameKey, nil)
        XCTAssertTrue(reused.out.hasSuffix("400") && reused.out.contains("new key"), reused.out)

        let records = try EnrolmentRecords(dataDirectory: hub.data).issued(agency: RunningHub.commune)
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(records.last?.renewedFrom, records.first?.serial)

        // `hubd revoke --agency` alone revokes both (the superseded one too), and the CRL the hub
        // enforces covers them.
        let revoked = hubd(["revoke", "--agency", RunningHub.commune])
        XCTAssertEqual(revoked.status, 0, revoked.err)
        for record in records { XCTAssertTrue(revoked.out.contains(record.serial), revoked.out) }
        let listed = runProgram("/usr/bin/openssl", ["verify", "-crl_check", "-CAfile", hub.clients.root, "-CRLfile", hub.crlFile, second])
        XCTAssertTrue((listed.out + listed.err).contains("certificate revoked"), listed.out + listed.err)
        // The revoked box cannot renew, not even in the second before hubd reads the new CRL:
        // refused at the handshake, or by the renewal route, which reads the hub's own list.
        let attempt = try self.reenrol(makeRequest("box-third").csr, certificate: second, key: newKey)
        XCTAssertFalse(attempt.out.hasSuffix("200"), "a revoked certificate renews: \(attempt.out)")
        XCTAssertEqual(try EnrolmentRecords(dataDirectory: hub.data).issued(agency: RunningHub.commune).count, 2)

        // A revoked box enrols again with a new token, and its new certificate opens the hub.
        let (thirdKey, thirdCSR) = makeRequest("box-reenrolled")
        let again = files + "/again.b64"
        XCTAssertEqual(try enrol(agency: RunningHub.commune, token: try newToken(), csr: thirdCSR, answer: again).http, 200)
        let third = certificates(inAnswer: again)[0]
        let opened = runProgram("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", hub.hubCA.root,
                                                  "--cert", third, "--key", thirdKey, "https://localhost:\(hub.port)/v1/directory"])
        XCTAssertEqual(opened.out, "200", opened.err)
    }

    func testThroughNginxABoxEnrolsOnTheEnrolmentBlockAndRenewsOnTheMutualTLSBlock() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningNginx.binary), "needs nginx (scripts/install-deps)")
        let nginx = try RunningNginx(in: hub, enrolmentUpstream: enrolmentPort)
        defer { nginx.stop() }
        try await nginx.waitUntilReady(hub)

        let (key, csr) = makeRequest("box-nginx")
        let answer = files + "/nginx.b64"
        let enrolled = try enrol(agency: RunningHub.commune, token: try newToken(), csr: csr, answer: answer, port: nginx.enrolmentPort)
        XCTAssertEqual(enrolled.http, 200, enrolled.err)
        let issued = certificates(inAnswer: answer)[0]
        XCTAssertEqual(publicKey(certificate: issued), publicKey(key: key))
        // Nothing but EST on the enrolment block.
        XCTAssertEqual(hub.curl(["/v1/directory"], as: nil, port: nginx.enrolmentPort).http, 404)

        // Renewal through nginx's mTLS block: hubd takes the forwarded certificate as the current one.
        let (newKey, newCSR) = makeRequest("box-nginx-renewed")
        let renewed = files + "/nginx-renewed.b64"
        let done = try reenrol(newCSR, certificate: issued, key: key, answer: renewed, port: nginx.port)
        XCTAssertTrue(done.out.hasSuffix("200"), done.out + done.err)
        XCTAssertEqual(certificates(inAnswer: renewed).first.map(publicKey(certificate:)), publicKey(key: newKey))
    }
}

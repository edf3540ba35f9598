import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Signing

/// `POST /v1/tokens/sign`: digests signed on a token by the daemon, for the programs on the box
/// that would otherwise open the token themselves (`gateway-token sign`), while the daemon runs
/// (docs/tokens.md, "The daemon opens the tokens"). One token session for the whole batch;
/// `POST /v1/tokens/certificate` reads the certificate alone, without a PIN.
extension LocalAPI {
    func addTokenSignRoute(to router: Router<BasicRequestContext>) {
        router.post("/v1/tokens/sign") { request, _ in try await signDigests(request) }
        router.post("/v1/tokens/certificate") { request, _ in try await tokenCertificate(request) }
        router.get("/v1/tokens") { request, _ in try await tokenList(request) }
        router.post("/v1/tokens/change-pin") { request, _ in try await changeTokenPIN(request) }
    }

    /// `{"reader": …, "key": …, "current": "…", "new": "…", "confirm_last_try": false}` → `{"changed":
    /// true}`: `gateway-token change-pin` while the daemon runs, through the stage's PIN change
    /// (the console's) with no role (`PINChangeRequest.role`). The same checks as the console's
    /// form before the token is touched — a missing PIN, a new one equal to the current — so a
    /// typing mistake costs no try; the token's refusals come back with the stage's codes
    /// (`wrong_pin`, `pin_blocked`, `last_try` …). Both PINs go into `SessionPIN`s the stage wipes.
    func changeTokenPIN(_ request: Request) async throws -> Response {
        let stage = try signingStage
        let object = try await Self.requestObject(request, upTo: 16 * 1024, keys: ["reader", "key", "current", "new", "confirm_last_try"],
                                                  shape: "{\"current\": …, \"new\": …}")
        let reader = try Self.text(object, "reader"), key = try Self.text(object, "key")
        let confirm = try Self.flag(object, "confirm_last_try")
        guard case .string(let currentText)? = object["current"], !currentText.isEmpty,
              case .string(let newText)? = object["new"], !newText.isEmpty else {
            throw APIError.badRequest("thiếu mã PIN hiện tại hoặc mã PIN mới (\"current\", \"new\")", "the current or the new PIN is missing (\"current\", \"new\")")
        }
        guard currentText != newText else {
            throw APIError.badRequest("Mã PIN mới trùng mã PIN hiện tại", "the new PIN is the current one")
        }
        var currentBytes = Array(currentText.utf8), newBytes = Array(newText.utf8)
        let change = PINChangeRequest(role: nil, reader: reader, key: key, confirmLastTry: confirm, expectedIdentity: nil, requestedBy: "local API")
        do throws(SigningSessionRefusal) {
            try await stage.changePIN(change, current: SessionPIN(consuming: &currentBytes), new: SessionPIN(consuming: &newBytes))
        } catch {
            throw APIError(error)
        }
        return try json(["changed": true])
    }

    /// `GET /v1/tokens[?module=PATH…]`: `gateway-token list` while the daemon runs. The daemon's
    /// token source scans (each token opened, none logged in) under the stage's rule, and answers
    /// `{"piv": […], "piv_problem": …, "pkcs11": […], "not_configured": [PATH …]}`: a `module` its
    /// configuration does not name is not loaded, only named back.
    func tokenList(_ request: Request) async throws -> Response {
        let stage = try signingStage
        let asked = request.uri.queryParameters.getAll("module").map { String($0) }
        guard let tokens else { throw Self.noTokenList }
        let listed: [UInt8]?
        do throws(SigningSessionRefusal) { listed = try await stage.holdingTokens("token list") { await tokens.tokenList(modules: asked) } } catch {
            throw APIError(error)
        }
        guard let listed else { throw Self.noTokenList }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: listed)))
    }

    static let noTokenList = APIError(status: .conflict, code: "signing_off", vi: "gatewayd này không liệt kê được token (không hỗ trợ token)",
                                      en: "this gatewayd cannot list tokens (no token support)")

    /// At most this many digests in one request: a clerk's batch, not a way to keep a token
    /// logged in for an hour (the body's bound follows from it).
    static let maximumDigests = 1000

    /// `{"reader": …, "key": "9c" | "pkcs11:…", "algorithm": "ecdsa-sha256", "digests": [base64 …],
    /// "pin": "…", "confirm_last_try": false}` → `{"signatures": [base64 …], "certificate": base64
    /// DER, "location": …}`. Everything about the request is checked before the token is opened,
    /// so a malformed one costs no PIN try. The PIN goes from the parsed body into a `SessionPIN`
    /// (wiped by the stage), as `openSession` does.
    func signDigests(_ request: Request) async throws -> Response {
        let stage = try signingStage
        // 1000 SHA-512 digests in base64 are 88 KB; the rest is small.
        let object = try await Self.requestObject(request, upTo: 256 * 1024, keys: ["reader", "key", "algorithm", "digests", "pin", "confirm_last_try"],
                                                  shape: "{\"algorithm\": …, \"digests\": […], \"pin\": …}")
        let names = SignatureAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .string(let algorithmText)? = object["algorithm"], let algorithm = SignatureAlgorithm(rawValue: algorithmText) else {
            throw APIError.badRequest("\"algorithm\": một trong \(names)", "\"algorithm\": one of \(names)")
        }
        guard case .array(let items)? = object["digests"], (1...Self.maximumDigests).contains(items.count) else {
            throw APIError.badRequest("\"digests\": 1 đến \(Self.maximumDigests) giá trị băm (base64)",
                                      "\"digests\": 1 to \(Self.maximumDigests) digests (base64)")
        }
        let length = algorithm.digest.length
        var digests: [[UInt8]] = []
        for (index, item) in items.enumerated() {
            guard case .string(let text) = item, let data = Data(base64Encoded: text), data.count == length else {
                throw APIError.badRequest("\"digests\"[\(index)]: cần \(length) byte (\(algorithm.digest.rawValue)) ở dạng base64",
                                          "\"digests\"[\(index)]: \(length) bytes (\(algorithm.digest.rawValue)) in base64 expected")
            }
            digests.append(Array(data))
        }
        let reader = try Self.text(object, "reader"), key = try Self.text(object, "key")
        let confirm = try Self.flag(object, "confirm_last_try")
        // An empty PIN would be sent to the token and could cost a try for nothing.
        guard case .string(let pinText)? = object["pin"], !pinText.isEmpty else {
            throw APIError.badRequest("thiếu mã PIN (\"pin\")", "the PIN is missing (\"pin\")")
        }
        var pinBytes = Array(pinText.utf8)
        let pin = SessionPIN(consuming: &pinBytes)
        let signed: SignedDigests
        do throws(SigningSessionRefusal) {
            signed = try await stage.signDigests(
                DigestSigningRequest(reader: reader, key: key, algorithm: algorithm, digests: digests, confirmLastTry: confirm, requestedBy: "local API"),
                pin: pin)
        } catch {
            throw APIError(error)
        }
        return try json(TokenSignatures(signatures: signed.signatures.map { Data($0).base64EncodedString() },
                                        certificate: Data(signed.certificate).base64EncodedString(), location: signed.location))
    }

    /// `{"reader": …, "key": …}` → `{"certificate": base64 DER, "algorithms": [the key's, preferred
    /// first], "location": …}`, no PIN: `gateway-token sign` without `--algorithm` learns here which
    /// digest to make before it asks for the PIN.
    func tokenCertificate(_ request: Request) async throws -> Response {
        let stage = try signingStage
        let object = try await Self.requestObject(request, upTo: 16 * 1024, keys: ["reader", "key"], shape: "{\"reader\": …, \"key\": …}")
        let reader = try Self.text(object, "reader"), key = try Self.text(object, "key")
        let found: (certificate: [UInt8], algorithms: [SignatureAlgorithm], location: String)
        do throws(SigningSessionRefusal) { found = try await stage.tokenCertificate(reader: reader, key: key) } catch {
            throw APIError(error)
        }
        return try json(TokenCertificate(certificate: Data(found.certificate).base64EncodedString(), algorithms: found.algorithms.map(\.rawValue),
                                         location: found.location))
    }
}

/// `POST /v1/tokens/certificate`'s answer.
package struct TokenCertificate: Sendable, Codable, Equatable {
    /// DER in base64.
    package var certificate: String
    /// `SignatureAlgorithm` names, the key's preferred first.
    package var algorithms: [String]
    package var location: String
}

/// `POST /v1/tokens/sign`'s answer.
package struct TokenSignatures: Sendable, Codable, Equatable {
    package var signatures: [String]
    /// The signing certificate, DER in base64.
    package var certificate: String
    /// Where the token was: "Virtual PCD 00 00, slot 9c", or its `pkcs11:` URI and module.
    package var location: String
}

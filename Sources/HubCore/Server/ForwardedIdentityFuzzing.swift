/// The one entry through which both the fuzzer (fuzz/FuzzForwardedCert.swift, scripts/fuzz-parsers
/// forwarded-cert) and the corpus replay test (Tests/HubCoreTests/FuzzCorpusTests.swift) feed
/// header values to the reader of the certificate a front proxy forwards. The value passes
/// through nginx from the box's handshake, but hubd must not trust the proxy to have checked its
/// form: every value must give a certificate or a HubError, never a trap.
package enum ForwardedIdentityFuzzing {
    static let identity = ForwardedIdentity(proxyCodes: ["NGINX"], clientRoots: [])

    package static func readOne(_ bytes: [UInt8]) {
        let value = String(decoding: bytes, as: UTF8.self)
        _ = try? ForwardedIdentity.certificate(escapedPEM: value)
        // The decision as hubd takes it, from the proxy and from a box that is not one.
        _ = try? identity.decide(connectionCommonName: "NGINX", headerValues: [value])
        _ = try? identity.decide(connectionCommonName: "000.00.00.H01", headerValues: [value])
    }
}

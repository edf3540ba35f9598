/// The TLS both ends of the relay accept (issue 16): TLS 1.3 preferred (all its suites are AEAD
/// with forward secrecy), TLS 1.2 only with ECDHE key exchange and an AEAD cipher. No CBC, no
/// SHA-1 MAC, no static RSA key exchange (which has no forward secrecy: a stolen hub key would
/// open every recorded session). Kept here, in the vocabulary both the box and hubd share, so
/// the two cannot drift apart.
package enum TLSPolicy {
    /// OpenSSL/BoringSSL cipher-list form, for TLS 1.2 (TLS 1.3's suites are not set here).
    package static let tls12CipherSuites = [
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    ].joined(separator: ":")
}

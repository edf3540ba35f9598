// swift-tools-version:6.1
// The commune document gateway: a headless appliance that signs, buffers and relays
// official documents between a commune office and the national document exchange.
import PackageDescription

let package = Package(
    name: "commune-gateway",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gatewayd", targets: ["gatewayd"]),
        .executable(name: "gateway-token", targets: ["gateway-token"]),
        .library(name: "GatewayCore", targets: ["GatewayCore"]),
        .library(name: "TokenDriver", targets: ["TokenDriver"]),
        .library(name: "Signing", targets: ["Signing"]),
        .library(name: "EdXML", targets: ["EdXML"]),
        .library(name: "DocumentSigning", targets: ["DocumentSigning"]),
        .executable(name: "hubd", targets: ["hubd"]),
    ],
    dependencies: [
        // Every version here is one of the machine's local package copies (see README).
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-certificates", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        // bcrypt for the console's passwords (HummingbirdBcrypt only).
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", exact: "2.5.0"),
    ],
    targets: [
        // The local API's JSON and Vietnam's time (GatewayJSON, VietnamTime), without Foundation:
        // gateway-token prints them, and a tool that links Foundation pays for it at every start
        // (ICU, CoreFoundation; docs/PERFORMANCE.md), while DocumentModel needs Foundation's Unicode.
        .target(name: "TimeJSON"),
        // Pure vocabulary shared by the store, edXML and the relay: agency codes, priorities.
        .target(name: "DocumentModel", dependencies: ["TimeJSON"]),
        // The log handler both daemons write through: control characters from outside escaped.
        .target(name: "SafeLogging", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // Durable files: write fully, fsync, rename, fsync the directory, hash a whole file.
        .target(name: "DurableFiles", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // SQLite databases whose commits survive a power cut (the box's store and the hub's).
        .target(name: "DurableDatabase", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "GatewayCore",
            dependencies: [
                "DocumentModel", "TimeJSON", "DurableFiles", "DurableDatabase",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                // scrypt for the passphrase of a backup's keys (Backup/BackupKeys.swift).
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // The relay builds edXML packages and checks the hub's CMS receipts.
                "EdXML", "DocumentSigning", "Signing", "SigningPolicy",
                // Revocation of incoming documents' signers over HTTP (OCSP, CRL).
                "TrustHTTP",
            ]
        ),
        // The signer interface GatewayCore signs through, and the software key-file signer.
        .target(name: "Signing", dependencies: [
            "DurableFiles",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // Signing documents and checking signatures: CMS/CAdES, PAdES (PDF), verification.
        .target(name: "DocumentSigning", dependencies: [
            "Signing", "Inflate", "DocumentModel", "TimeJSON",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // The HTTP side of certificate checks (OCSP, RFC 3161 timestamps): DocumentSigning's
        // TrustFetcher over AsyncHTTPClient, apart so DocumentSigning itself links no network stack.
        .target(name: "TrustHTTP", dependencies: [
            "DocumentSigning",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // The pure rules of the signing stage (issue 13): whose certificate, who signs in which role, the register.
        .target(name: "SigningPolicy", dependencies: [
            "DocumentModel", "TimeJSON",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        .systemLibrary(name: "CPCSCLite", pkgConfig: "libpcsclite", providers: [.apt(["libpcsclite-dev"])]),
        // The PKCS#11 header only: modules are loaded with dlopen, none is linked (issue 18).
        .systemLibrary(name: "CPKCS11", providers: [.apt(["libp11-kit-dev"])]),
        .systemLibrary(name: "CLibUSB", pkgConfig: "libusb-1.0", providers: [.apt(["libusb-1.0-0-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // zlib inflate with a ceiling: gzipped certificates on tokens, FlateDecode in PDFs.
        .target(name: "Inflate", dependencies: ["CZlib"]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // edXML packages (QCVN 102:2016): model, streaming writer and reader, XML signatures.
        .target(name: "EdXML", dependencies: [
            "CLibXML2", "DocumentModel", "TimeJSON", "Signing", "DurableFiles",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "TokenDriver", dependencies: [
            "CPCSCLite", "CPKCS11", "CLibUSB", "Inflate", "Signing", "DurableFiles",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // Readers and cards as they come and go (ReaderMonitor's thread on SCardGetStatusChange),
        // apart from TokenDriver because only the daemon watches: the monitor's thread and its
        // condition are Foundation's, and gateway-token links no Foundation (docs/PERFORMANCE.md).
        .target(name: "TokenHotPlug", dependencies: ["TokenDriver", "CPCSCLite"]),
        // `gatewayd token …` / `gateway-token …`: listing tokens, signing a file's digest, certificates.
        .target(name: "TokenCommandLine", dependencies: [
            "TimeJSON", "TokenDriver", "Signing", "DurableFiles",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "X509", package: "swift-certificates"),
        ]),
        // The signing stage's tokens over PIV (GatewayCore's SigningTokens seam): what gatewayd
        // gives the stage, a library so the tests can link it.
        .target(name: "SessionTokens", dependencies: [
            "GatewayCore", "TokenDriver", "Signing",
            .product(name: "X509", package: "swift-certificates"),
        ]),
        // The clerks' console (issue 15, docs/console.md): HTTPS on the LAN, its own CA, people and
        // sessions; apart from GatewayCore so the core links no bcrypt, no page and no TLS server.
        .target(name: "Console", dependencies: [
            "GatewayCore", "DocumentModel", "TimeJSON", "SigningPolicy", "DurableFiles",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "ConsoleTests", dependencies: [
            "Console", "GatewayCore", "DocumentModel", "TimeJSON", "TestSupport", "Signing", "SigningPolicy",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `gatewayd firstboot` (issue 19): gateway.toml from the FAT partition applied to the box.
        .target(name: "FirstBoot", dependencies: ["GatewayCore", "Console", "DurableFiles"]),
        .testTarget(name: "FirstBootTests", dependencies: ["FirstBoot", "GatewayCore", "Console", "DurableFiles", "TestSupport"]),
        // The token commands alone, for technicians: starts in milliseconds, without the daemon.
        .executableTarget(
            name: "gateway-token",
            dependencies: ["TokenCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "gatewayd",
            dependencies: [
                "GatewayCore",
                "SafeLogging",
                "Console",
                "FirstBoot",
                "DocumentModel",
                "TimeJSON",
                "TokenDriver",
                "TokenHotPlug",
                "TokenCommandLine",
                "SessionTokens",
                "Signing",
                "EdXML",
                "DocumentSigning",
                "TrustHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "GatewayCoreTests", dependencies: [
            "GatewayCore", "DocumentModel", "TimeJSON", "TestSupport", "EdXML", "DocumentSigning", "DurableFiles",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // SessionTokens' tests are here, beside the scripted and the virtual cards they use.
        // TokenCommandLine and ArgumentParser: `gateway-token sign`'s own parse checked against ArgumentParser's.
        .testTarget(name: "TokenDriverTests", dependencies: [
            "TokenDriver", "TokenHotPlug", "Signing", "TestSupport", "SessionTokens", "GatewayCore", "DocumentSigning", "TokenCommandLine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "SigningTests", dependencies: ["Signing", "DocumentSigning", "TestSupport"]),
        .testTarget(name: "DocumentSigningTests", dependencies: [
            "DocumentSigning", "TrustHTTP", "Signing", "Inflate", "TestSupport",
            .product(name: "X509", package: "swift-certificates"),
        ]),
        .testTarget(name: "SigningPolicyTests", dependencies: [
            "SigningPolicy", "DocumentModel", "TestSupport",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "EdXMLTests", dependencies: ["EdXML", "Signing", "TestSupport"]),
        // The reference hub (docs/protocol.md): its library, its executable, its tests.
        .target(name: "HubCore", dependencies: [
            "DocumentModel", "TimeJSON", "EdXML", "Signing", "DocumentSigning", "DurableFiles", "DurableDatabase",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "TOMLKit", package: "TOMLKit"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        .executableTarget(name: "hubd", dependencies: [
            "HubCore", "DocumentModel",
            "SafeLogging",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "HubCoreTests", dependencies: [
            "HubCore", "DocumentModel", "DurableFiles", "EdXML", "Signing", "TestSupport",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)

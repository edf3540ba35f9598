import Foundation
import GatewayCore
import TestSupport
import XCTest

/// Issue 16: `/metrics` served alone on a read-only listener (`[api] metrics_listen`), which
/// may face the province's monitoring: the metrics answer, every other route of the local API is
/// not there. Unlike `[api] tcp`, any address is accepted.
final class MetricsListenerTests: XCTestCase {
    func testTheMetricsListenerServesMetricsAndNothingElse() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd: run `swift build` first")
        let port = freeLoopbackPort()
        let daemon = try RunningDaemon(config: "[intake]\ndisk_reserve = 0\n[api]\nmetrics_listen = \"127.0.0.1:\(port)\"\n")
        defer { daemon.stop() }
        try await daemon.waitUntilReady()
        try await waitUntil(seconds: 30) { isListening(onLoopbackPort: port) }
        func get(_ path: String, _ extra: [String] = []) -> (status: Int32, out: String) {
            let result = runProgram("/usr/bin/curl", ["-sS", "-o", "-", "-w", "\n%{http_code}"] + extra + ["http://127.0.0.1:\(port)" + path])
            return (result.status, result.out)
        }
        let metrics = get("/metrics")
        XCTAssertTrue(metrics.out.hasSuffix("\n200"), metrics.out)
        XCTAssertTrue(metrics.out.contains("# TYPE"), metrics.out)
        for path in ["/v1/status", "/v1/documents", "/v1/inbox", "/v1/directory"] {
            XCTAssertTrue(get(path).out.hasSuffix("\n404"), "\(path) on the metrics listener: \(get(path).out)")
        }
        XCTAssertTrue(get("/v1/documents", ["-X", "POST", "--data-binary", "x"]).out.hasSuffix("\n404"))
        // The full API is still on the socket.
        XCTAssertEqual(daemon.curl([], path: "/v1/status").http, 200)
    }

    func testTheMetricsListenerMayListenOnAnyAddress() throws {
        XCTAssertEqual(try ConfigurationLoader.parse("[api]\nmetrics_listen = \"0.0.0.0:9750\"").api.metricsAddress, "0.0.0.0:9750")
        XCTAssertThrowsError(try ConfigurationLoader.parse("[api]\nmetrics_listen = \"9750\""))
    }
}

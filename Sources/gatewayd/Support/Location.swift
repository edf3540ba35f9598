// `--config FILE` / `--data-dir DIR`: how every command finds the daemon and its store.
import ArgumentParser
import Foundation
import GatewayCore

/// `--config FILE` / `--data-dir DIR`: how every command finds the daemon and its store.
struct Location: ParsableArguments {
    @Option(name: .customLong("config"), help: "Configuration file (TOML). Default: \(GatewayConfiguration.defaultPath) when neither option is given.")
    var configPath: String?

    @Option(name: .customLong("data-dir"), help: "Data directory (overrides data_dir of the configuration).")
    var dataDirectory: String?

    func resolve() throws -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        if let configPath {
            configuration = try ConfigurationLoader.load(path: configPath)
        } else if dataDirectory == nil, FileManager.default.fileExists(atPath: GatewayConfiguration.defaultPath) {
            configuration = try ConfigurationLoader.load(path: GatewayConfiguration.defaultPath)
        }
        if let dataDirectory {
            configuration.dataDirectory = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        }
        return configuration
    }

    /// The configuration file `resolve` read, if any.
    var configurationFile: String? {
        if let configPath { return URL(fileURLWithPath: configPath).standardizedFileURL.path }
        return dataDirectory == nil && FileManager.default.fileExists(atPath: GatewayConfiguration.defaultPath) ? GatewayConfiguration.defaultPath : nil
    }
}

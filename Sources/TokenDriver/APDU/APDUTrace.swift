#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DurableFiles

/// APDUs as text for debug logs, with the secret parts never shown: the data of a VERIFY (the
/// PIN) and of CHANGE REFERENCE DATA / RESET RETRY COUNTER (PIN, PUK) is replaced by its length.
package enum APDUTrace {
    /// Writes a trace line to standard error (the daemon's log under systemd).
    package static let standardError: @Sendable (String) -> Void = { line in
        POSIXFile.writeToStandardError("apdu " + line + "\n")
    }

    static let secretInstructions: Set<UInt8> = [0x20, 0x24, 0x2C]

    static func describe(_ command: CommandAPDU) -> String {
        var text = hex([command.cla, command.ins, command.p1, command.p2])
        if !command.data.isEmpty {
            text += secretInstructions.contains(command.ins)
                ? " [\(command.data.count) bytes redacted]"
                : " " + hex(command.data)
        }
        if let le = command.expectedLength { text += " Le=\(le)" }
        return text
    }

    static func describe(_ response: ResponseAPDU) -> String {
        (response.data.isEmpty ? "" : "\(response.data.count) bytes, ") + response.status.description
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16, uppercase: true)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}

import Logging

/// A log handler that writes through another one with every control and bidirectional-override
/// character of a message and its metadata written out (`\u{0A}`, `\u{202E}`) — issue 16: values
/// from outside (a tus `Upload-Metadata` header, a file name from the share, a package's field)
/// must not start a line of their own in the journal (a forged "package stored" line) nor turn
/// text around on a technician's terminal. gatewayd and hubd both log through it.
package struct EscapingLogHandler: LogHandler {
    package var inner: any LogHandler

    package init(_ inner: any LogHandler) { self.inner = inner }

    package func log(event: LogEvent) {
        var event = event
        event.message = "\(Self.escape(event.message.description))"
        event.metadata = event.metadata.map(Self.escape)
        inner.log(event: event)
    }

    package var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue.map(Self.escape) }
    }

    package var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = Self.escape(newValue) }
    }

    package var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    /// C0 and C1 controls, DEL, and the bidirectional embeddings, overrides and isolates.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    package static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var escaped = ""
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) {
                escaped += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    static func escape(_ metadata: Logger.Metadata) -> Logger.Metadata {
        Logger.Metadata(uniqueKeysWithValues: metadata.map { (escape($0.key), escape($0.value)) })
    }

    static func escape(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(escape(text))
        case .stringConvertible(let convertible): .string(escape(convertible.description))
        case .dictionary(let dictionary): .dictionary(escape(dictionary))
        case .array(let values): .array(values.map(escape))
        }
    }
}

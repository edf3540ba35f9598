/// The client side of one tus 1.0.0 upload (core + creation), as a state machine: the relay
/// tells it what the hub answered, it says what to send next (docs/protocol.md, "Resumable
/// upload"). The upload's path is stored with the document, so after a crash or a broken
/// connection the machine starts from `probe` (HEAD) and only the rest is sent.
package struct TusUpload: Sendable, Equatable {
    package enum Action: Sendable, Equatable {
        /// `POST /v1/uploads` with `Upload-Length`.
        case create(length: Int64)
        /// `HEAD <path>`: where to continue.
        case probe(path: String)
        /// `PATCH <path>` with the package's bytes from `offset` to the end.
        case send(path: String, offset: Int64)
        /// `GET <receipt path>`.
        case fetchReceipt(path: String)
    }

    package enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The hub's answer contradicts the upload (another length, an offset beyond the end, an
        /// offset that went backwards after a PATCH it acknowledged): not something a retry fixes.
        case hubContradicts(String)

        package var description: String {
            switch self {
            case .hubContradicts(let what): "the hub's tus answer contradicts the upload: \(what)"
            }
        }
    }

    package let length: Int64
    package private(set) var uploadPath: String?
    package private(set) var offset: Int64 = 0
    package private(set) var receiptPath: String?
    private var needsProbe: Bool
    /// The offset the last HEAD found, and how many HEADs in a row found no more than it.
    private var lastProbedOffset: Int64 = -1
    private var breaksWithoutProgress = 0

    /// After a HEAD: go on, or stop because breaks keep coming with nothing gained.
    package enum Progress: Sendable, Equatable {
        case resumes
        /// Two breaks in a row with nothing gained: the link is down; the relay backs off.
        case stalled(at: Int64)
    }

    /// `uploadPath`: the upload this document already has on the hub (kept in the store).
    package init(length: Int64, uploadPath: String? = nil) {
        self.length = length
        self.uploadPath = uploadPath
        self.needsProbe = uploadPath != nil
    }

    package var nextAction: Action {
        guard let uploadPath else { return .create(length: length) }
        if let receiptPath { return .fetchReceipt(path: receiptPath) }
        if needsProbe { return .probe(path: uploadPath) }
        return .send(path: uploadPath, offset: offset)
    }

    /// `201 Created` with `Location`.
    package mutating func created(location: String) {
        uploadPath = location
        offset = 0
        receiptPath = nil
        needsProbe = false
    }

    /// `200` to HEAD, with `Upload-Offset` and `Upload-Length`.
    @discardableResult
    package mutating func probed(offset hubOffset: Int64, length hubLength: Int64?) throws(Failure) -> Progress {
        if let hubLength, hubLength != length {
            throw .hubContradicts("Upload-Length \(hubLength), the package has \(length) bytes")
        }
        guard hubOffset >= 0, hubOffset <= length else {
            throw .hubContradicts("Upload-Offset \(hubOffset) outside 0…\(length)")
        }
        offset = hubOffset
        needsProbe = false
        // Everything arrived before the break: the upload completed on the hub, and its receipt
        // has the protocol's fixed place.
        if hubOffset == length, let uploadPath { receiptPath = uploadPath + "/receipt" }
        breaksWithoutProgress = hubOffset <= lastProbedOffset ? breaksWithoutProgress + 1 : 0
        lastProbedOffset = hubOffset
        return breaksWithoutProgress >= 2 ? .stalled(at: hubOffset) : .resumes
    }

    /// `204` to PATCH, with the new `Upload-Offset` and, on the last one, `Hub-Receipt`.
    package mutating func sent(newOffset: Int64, receiptPath hubReceipt: String?) throws(Failure) {
        guard newOffset >= offset, newOffset <= length else {
            throw .hubContradicts("Upload-Offset \(newOffset) after a PATCH from \(offset) of \(length)")
        }
        offset = newOffset
        if newOffset == length {
            guard let hubReceipt else { throw .hubContradicts("upload complete but no Hub-Receipt") }
            receiptPath = hubReceipt
        }
    }

    /// The connection broke, timed out, or the hub said `409 offset_mismatch`: ask where to go on.
    package mutating func interrupted() {
        if uploadPath != nil, receiptPath == nil { needsProbe = true }
    }

    /// `404` on the upload: the hub no longer knows it (its store was restored, say). Start anew;
    /// the package key keeps that idempotent at the hub.
    package mutating func lost() {
        uploadPath = nil
        receiptPath = nil
        offset = 0
        needsProbe = false
    }
}

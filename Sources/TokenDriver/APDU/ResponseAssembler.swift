/// Collects one logical answer across `61xx` (GET RESPONSE for the rest) and `6Cxx` (send the
/// same command again with the exact Le), the two ways cards spread a long answer — a
/// certificate, an RSA-2048 signature — over short APDUs.
///
/// Pure: the transport feeds it each response and does what it answers, so the loop is tested
/// on byte sequences without a card (the swift-nio habit: event in, action out).
package struct ResponseAssembler: Sendable {
    package enum Action: Sendable, Equatable {
        /// Transmit this command next.
        case send(CommandAPDU)
        /// The whole answer: every data piece joined, with the final status.
        case finished(ResponseAPDU)
    }

    package enum Failure: Error, Equatable, Sendable {
        /// A card that keeps answering `61xx` past any sensible object size.
        case answerTooLong(Int)
        /// `6Cxx` twice for the same command: the card does not settle on a length.
        case lengthNotSettled
    }

    /// PIV objects stay well under this (the largest, a certificate, is a few KB).
    static let maximumAnswer = 1 << 20

    private let command: CommandAPDU
    private var collected: [UInt8] = []
    private var resentForLength = false

    package init(command: CommandAPDU) { self.command = command }

    /// The first command to send.
    var firstAction: Action { .send(command) }

    package mutating func received(_ response: ResponseAPDU) throws(Failure) -> Action {
        collected += response.data
        guard collected.count <= Self.maximumAnswer else { throw .answerTooLong(collected.count) }
        switch response.status {
        case .moreData(let available):
            // GET RESPONSE (ISO 7816-4 §7.6.1): CLA of the command without chaining, INS C0.
            return .send(CommandAPDU(cla: command.cla & ~CommandAPDU.chainingBit, ins: 0xC0, p1: 0, p2: 0, expectedLength: available))
        case .wrongLength(let exact):
            guard !resentForLength else { throw .lengthNotSettled }
            resentForLength = true
            var again = command
            again.expectedLength = exact
            collected = []
            return .send(again)
        default:
            return .finished(ResponseAPDU(data: collected, status: response.status))
        }
    }
}

/// What the PIV code needs of a card connection: one APDU out and its answer back, and holding the
/// card for a sequence. `PCSCCard` is the real one; the tests give a scripted card, so the PIN
/// sequence and the response chaining are checked command by command without pcscd.
package protocol CardTransport: AnyObject {
    /// One APDU out, one answer back. `extended`: force the extended (true) or the short (false)
    /// form, or nil for the short form whenever it fits.
    func exchange(_ command: CommandAPDU, extended: Bool?) throws -> ResponseAPDU
    /// Holds the card for `body` so no other program's command slips between ours. Nests: an
    /// inner transaction inside an outer one on the same connection keeps the card held.
    func withTransaction<T>(_ body: () throws -> T) throws -> T
    /// Lets go of the card, leaving it as it is.
    func disconnect()
}

extension CardTransport {
    /// Sends one logical command: chained when it does not fit a short APDU and `extended` is
    /// false, with `61xx` / `6Cxx` followed until the whole answer is in. The whole exchange is
    /// one transaction: another program's command between our GET DATA and its GET RESPONSE
    /// would take the card's pending answer (6985, "no data to get") — what the tests saw when a
    /// daemon beside them identified the same card.
    package func send(_ command: CommandAPDU, extended: Bool) throws -> ResponseAPDU {
        try withTransaction {
            let pieces = (!extended && !command.fitsShortForm) ? command.chained() : [command]
            for piece in pieces.dropLast() {
                let answer = try exchange(piece, extended: false)
                guard answer.status.isSuccess else { return answer }
            }
            var assembler = ResponseAssembler(command: pieces[pieces.count - 1])
            var action = assembler.firstAction
            while true {
                switch action {
                case .finished(let response):
                    return response
                case .send(let next):
                    action = try assembler.received(try exchange(next, extended: extended ? nil : false))
                }
            }
        }
    }
}

/// Changing a PIV token's application PIN: CHANGE REFERENCE DATA (SP 800-73-4 Part 2 §3.2.2),
/// with the same care as a signature's VERIFY — the tries left read first (`PINPolicy`), the final
/// try never spent unless the person said so, no retry, and the PIN's security status reset after.
extension PIV {
    /// CHANGE REFERENCE DATA of the application PIN (key reference 80): the current PIN then the
    /// new one, each padded with FF to 8 bytes. The command's copy of the data is the caller's to
    /// drop; the padded copies made here are zeroed by `withPaddedBytes`.
    static func changeReferenceData(old: PIN, new: PIN) -> CommandAPDU {
        old.withPaddedBytes { current in
            new.withPaddedBytes { next in CommandAPDU(ins: 0x24, p1: 0x00, p2: 0x80, data: current + next) }
        }
    }
}

extension PIVToken {
    /// Changes the PIN from `old` to `new`, once: SELECT, the tries left (refused when blocked, or
    /// when one try is left and not `force`), CHANGE REFERENCE DATA, then the log-out, in one PC/SC
    /// transaction. A wrong `old` costs one try and changes nothing (`.pinIncorrect` with the
    /// tries left). Both PINs are already checked as PINs (6 to 8 digits) by their type.
    package func changePIN(old: PIN, new: PIN, force: Bool) throws(Failure) {
        do {
            try card.withTransaction { () throws in
                try select()
                switch PINPolicy.decide(status: try send(PIV.pinStatus()).status, force: force) {
                case .blocked: throw Failure.pinBlocked
                case .refuseLastTry: throw Failure.lastTryRefused
                case .proceed: break
                }
                // What the card verifies by this command is not left behind for another program.
                defer { _ = try? send(PIV.logout()) }
                let response = try send(PIV.changeReferenceData(old: old, new: new))
                switch response.status {
                case .success: return
                case .pinIncorrect(let tries): throw tries == 0 ? Failure.pinBlocked : Failure.pinIncorrect(triesLeft: tries)
                case .authenticationBlocked: throw Failure.pinBlocked
                default: throw Failure.card(response.status, operation: "CHANGE REFERENCE DATA")
                }
            }
        } catch {
            throw Failure(error)
        }
    }
}

/// The PIN of the PIV token in a reader, for `token change-pin` and (later) the console: a
/// connection made for the change and dropped after, as the change is a one-off.
package struct PIVPINChanger: TokenPINChanger {
    package let reader: String
    let connect: @Sendable () throws -> any CardTransport

    package init(reader: String) {
        self.init(reader: reader, connect: { try PCSCContext().connect(reader: reader) })
    }

    package init(reader: String, connect: @escaping @Sendable () throws -> any CardTransport) {
        self.reader = reader
        self.connect = connect
    }

    package var location: String { reader }

    /// PIV's rule, unchanged for PKCS#11's sake: 6 to 8 digits.
    package func checkNew(_ new: EnteredPIN) throws {
        do { _ = try new.piv() } catch { throw PIVToken.Failure.pinFormat(error) }
    }

    /// Both PINs made PIV PINs (6 to 8 digits) before the card is connected: a malformed one costs no try.
    package func changePIN(old: EnteredPIN, new: EnteredPIN, force: Bool) throws {
        let (current, next): (PIN, PIN)
        do { (current, next) = (try old.piv(), try new.piv()) } catch { throw PIVToken.Failure.pinFormat(error) }
        try changePIN(old: current, new: next, force: force)
    }

    package func changePIN(old: PIN, new: PIN, force: Bool) throws {
        let card: any CardTransport
        do { card = try connect() } catch let error as PCSCError { throw PIVToken.Failure.transport(error) }
        defer { card.disconnect() }
        try PIVToken(card: card).changePIN(old: old, new: new, force: force)
    }
}

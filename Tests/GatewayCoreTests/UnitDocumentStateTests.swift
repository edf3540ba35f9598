import DocumentModel
import XCTest
@testable import GatewayCore

/// The outbound lifecycle: received → awaiting_leader → awaiting_seal → signed → queued →
/// sending → delivered, with returned and withdrawn before signing and side exits rejected and
/// quarantined.
final class UnitDocumentStateTests: XCTestCase {
    /// The lifecycle, written out independently of the code under test.
    private let lifecycle: [DocumentState: Set<DocumentState>] = [
        .received: [.awaitingLeader, .awaitingSeal, .signed, .rejected, .quarantined],
        .awaitingLeader: [.awaitingSeal, .returned, .withdrawn, .rejected, .quarantined],
        .awaitingSeal: [.signed, .returned, .withdrawn, .rejected, .quarantined],
        .returned: [.awaitingLeader, .awaitingSeal, .withdrawn, .quarantined],
        .signed: [.queued, .rejected, .quarantined],
        .queued: [.sending, .rejected, .quarantined],
        .sending: [.delivered, .queued, .rejected, .quarantined],
        .delivered: [.quarantined],
        .withdrawn: [.quarantined],
        .rejected: [.quarantined],
        .quarantined: [],
    ]

    func testRawValuesAreTheStoredNames() {
        XCTAssertEqual(DocumentState.allCases.map(\.rawValue),
                       ["received", "awaiting_leader", "awaiting_seal", "returned", "signed", "queued", "sending", "delivered",
                        "withdrawn", "rejected", "quarantined"])
        XCTAssertEqual(DocumentState(rawValue: "awaiting_leader"), .awaitingLeader)
        XCTAssertNil(DocumentState(rawValue: "awaiting_signature"), "renamed by migration v8")
    }

    func testEveryAllowedTransition() {
        for (from, allowed) in lifecycle {
            XCTAssertEqual(from.allowedNextStates, allowed, "from \(from.rawValue)")
            for to in allowed {
                XCTAssertTrue(from.canMove(to: to), "\(from.rawValue) → \(to.rawValue) must be allowed")
            }
        }
        XCTAssertEqual(lifecycle.count, DocumentState.allCases.count)
    }

    func testEveryOtherTransitionIsForbidden() {
        var forbidden = 0
        for from in DocumentState.allCases {
            for to in DocumentState.allCases where !(lifecycle[from]?.contains(to) ?? false) {
                XCTAssertFalse(from.canMove(to: to), "\(from.rawValue) → \(to.rawValue) must be forbidden")
                forbidden += 1
            }
        }
        XCTAssertEqual(forbidden, 121 - 32)
    }

    func testSampleOfForbiddenTransitions() {
        XCTAssertFalse(DocumentState.delivered.canMove(to: .queued))
        XCTAssertFalse(DocumentState.delivered.canMove(to: .sending))
        XCTAssertFalse(DocumentState.received.canMove(to: .delivered))
        XCTAssertFalse(DocumentState.received.canMove(to: .queued))
        XCTAssertFalse(DocumentState.awaitingLeader.canMove(to: .queued))
        XCTAssertFalse(DocumentState.awaitingLeader.canMove(to: .signed), "the organization's signature is always needed")
        XCTAssertFalse(DocumentState.returned.canMove(to: .signed))
        XCTAssertFalse(DocumentState.signed.canMove(to: .withdrawn), "a signed document is not withdrawn: it is official")
        XCTAssertFalse(DocumentState.signed.canMove(to: .sending))
        XCTAssertFalse(DocumentState.rejected.canMove(to: .queued))
        XCTAssertFalse(DocumentState.queued.canMove(to: .delivered))
        for state in DocumentState.allCases {
            XCTAssertFalse(state.canMove(to: state), "\(state.rawValue) → itself")
            XCTAssertFalse(DocumentState.quarantined.canMove(to: state), "quarantined → \(state.rawValue)")
        }
        XCTAssertTrue(DocumentState.quarantined.allowedNextStates.isEmpty)
    }

    func testQuarantineIsReachableFromEveryOtherState() {
        for state in DocumentState.allCases where state != .quarantined {
            XCTAssertTrue(state.canMove(to: .quarantined), state.rawValue)
        }
    }

    func testTerminalStates() {
        XCTAssertEqual(Set(DocumentState.allCases.filter(\.isTerminal)), [.delivered, .withdrawn, .rejected, .quarantined])
    }

    func testTransientStates() {
        XCTAssertEqual(Set(DocumentState.allCases.filter(\.isTransient)), [.received, .sending])
    }

    func testStateAfterIntake() {
        let recipients = [AgencyCode("000.00.20.H13")!]
        XCTAssertEqual(DocumentState.afterIntake(DocumentMetadata(recipients: recipients, signed: true)), .signed)
        XCTAssertEqual(DocumentState.afterIntake(DocumentMetadata(recipients: recipients)), .awaitingLeader, "both signatures by default")
        XCTAssertEqual(DocumentState.afterIntake(DocumentMetadata(recipients: recipients, signatures: [.leader, .organization])), .awaitingLeader)
        XCTAssertEqual(DocumentState.afterIntake(DocumentMetadata(recipients: recipients, signatures: [.organization])), .awaitingSeal,
                       "a copy or a document a leader signed elsewhere needs the seal only")
        for state in [DocumentState.signed, .awaitingLeader, .awaitingSeal] { XCTAssertTrue(DocumentState.received.canMove(to: state)) }
    }

    func testIllegalTransitionDescription() {
        XCTAssertEqual(IllegalTransition(from: .delivered, to: .queued).description, "illegal document transition delivered → queued")
    }

    func testPriorityOrderAndNames() {
        XCTAssertEqual(Priority.allCases.map(\.rawValue), [0, 1, 2, 3, 4])
        XCTAssertEqual(Priority.allCases.sorted(), Priority.allCases)
        XCTAssertLessThan(Priority.urgent, Priority.flash)
        XCTAssertEqual(Priority.flash.vietnameseName, "Hỏa tốc")
        XCTAssertEqual(Priority.normal.vietnameseName, "Thường")
        XCTAssertNil(Priority(rawValue: 5))
    }
}

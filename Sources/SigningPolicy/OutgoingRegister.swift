import DocumentModel
import Foundation
import TimeJSON

/// A number from the register of outgoing documents (sổ đăng ký văn bản đi), as the issuing
/// appearance writes it: `Số: 01/QĐ-UBND`, `ngày 05 tháng 02 năm 2026`.
package struct RegisterNumber: Hashable, Sendable, Codable {
    package var year: Int
    package var number: Int
    /// Ký hiệu, e.g. `QĐ-UBND`.
    package var notation: String
    package var date: Date

    package init(year: Int, number: Int, notation: String, date: Date) {
        (self.year, self.number, self.notation, self.date) = (year, number, notation, date)
    }

    /// Two digits at least (Decree 30 Appendix I: "01", then "10", "100").
    package var formattedNumber: String { number < 10 ? "0\(number)" : "\(number)" }

    /// `01/QĐ-UBND` (the number alone when there is no notation).
    package var reference: String { notation.isEmpty ? formattedNumber : "\(formattedNumber)/\(notation)" }

    /// `ngày 05 tháng 02 năm 2026` in Vietnam time: a 0 before days under 10 and months 1 and 2
    /// only (Decree 30 Appendix I, "địa danh và thời gian ban hành văn bản").
    package var vietnameseDate: String {
        let c = OutgoingRegister.calendar.dateComponents([.year, .month, .day], from: date)
        let day = c.day! < 10 ? "0\(c.day!)" : "\(c.day!)"
        let month = c.month! <= 2 ? "0\(c.month!)" : "\(c.month!)"
        return "ngày \(day) tháng \(month) năm \(c.year!)"
    }
}

/// The register of outgoing documents (Decree 30/2020 Art. 15): numbers from 01 each calendar
/// year in Vietnam time, in one series or one per notation, never given twice and in the order
/// of their dates. A plain value: the store keeps `last` and passes it in; `next` returns the
/// number and the register to store with it in the same transaction.
package struct OutgoingRegister: Hashable, Sendable {
    package enum Numbering: String, Sendable, Hashable, CaseIterable {
        /// One series for every notation: 01/QĐ-UBND, 02/TB-UBND, 03/QĐ-UBND…
        case single
        /// A series per notation: 01/QĐ-UBND, 01/TB-UBND, 02/QĐ-UBND…
        case perNotation = "per_notation"
    }

    /// One year's series; `notation` is "" in `single` numbering.
    package struct Series: Hashable, Sendable {
        package var year: Int
        package var notation: String
        package init(year: Int, notation: String) { (self.year, self.notation) = (year, notation) }
    }

    /// The last number a series gave and its date.
    package struct Entry: Hashable, Sendable {
        package var number: Int
        package var date: Date
        package init(number: Int, date: Date) { (self.number, self.date) = (number, date) }
    }

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = GatewayJSON.vietnamTime
        return calendar
    }()

    package let numbering: Numbering
    package private(set) var last: [Series: Entry]

    package init(numbering: Numbering, last: [Series: Entry] = [:]) {
        (self.numbering, self.last) = (numbering, last)
    }

    /// The calendar year of `date` in Vietnam (UTC+7): 31 Dec 17:00 UTC is already 1 January.
    package static func year(of date: Date) -> Int { calendar.component(.year, from: date) }

    package func series(notation: String, year: Int) -> Series {
        Series(year: year, notation: numbering == .single ? "" : Self.canonical(notation))
    }

    /// The number for a document sealed at `date`. A document that already has one keeps it
    /// (and the register moves past it, so it is not given again); otherwise its series' next.
    /// Refused when the date is before the last number's: the clock went back, and numbering
    /// then would put numbers out of the order of their dates.
    package func next(notation: String, at date: Date,
                      existing: RegisterNumber? = nil) throws(SigningRefusal) -> (number: RegisterNumber, register: OutgoingRegister) {
        var register = self
        if let existing {
            let key = series(notation: existing.notation, year: existing.year)
            if existing.number > (last[key]?.number ?? 0) {
                register.last[key] = Entry(number: existing.number, date: max(existing.date, last[key]?.date ?? existing.date))
            }
            return (existing, register)
        }
        let notation = notation.trimmingCharacters(in: .whitespaces)
        if numbering == .perNotation, notation.isEmpty {
            throw SigningRefusal(.missingNotation, "văn bản chưa có ký hiệu (vd. QĐ-UBND): sổ đánh số theo từng loại ký hiệu",
                                 "the document has no notation (e.g. QĐ-UBND): the register numbers each notation apart")
        }
        if let latest = last.values.map(\.date).max(), date < latest {
            let format = Date.ISO8601FormatStyle(timeZone: GatewayJSON.vietnamTime)
            throw SigningRefusal(.registerClockBehind,
                                 "thời gian hiện tại (\(format.format(date))) trước số cuối trong sổ (\(format.format(latest))) — kiểm tra đồng hồ của hộp",
                                 "the time now (\(format.format(date))) is before the register's last number (\(format.format(latest))): check the box's clock")
        }
        let key = series(notation: notation, year: Self.year(of: date))
        let number = (last[key]?.number ?? 0) + 1
        register.last[key] = Entry(number: number, date: date)
        return (RegisterNumber(year: key.year, number: number, notation: notation, date: date), register)
    }

    /// Notations compared as one: composed Unicode, upper case, no spaces (`qđ-ubnd` is `QĐ-UBND`).
    static func canonical(_ notation: String) -> String {
        notation.precomposedStringWithCanonicalMapping.uppercased().filter { !$0.isWhitespace }
    }
}

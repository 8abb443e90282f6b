import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

extension IndicatorCategory: ExpressibleByArgument {}

extension TaskStatus: ExpressibleByArgument {}

extension CalendarDate: ExpressibleByArgument {
    public init?(argument: String) { self.init(iso: argument) }
}

extension Period: ExpressibleByArgument {
    /// "2025/26", "2025/26 Q2", and for shells "2025/26-Q2" or "2025/26Q2".
    public init?(argument: String) {
        var text = argument.trimmingCharacters(in: .whitespaces)
        if text.count > 7, !text.contains(" ") {
            let year = text.prefix(7)
            let rest = text.dropFirst(7).drop { $0 == "-" || $0 == ":" || $0 == "_" }
            text = "\(year) \(rest)"
        }
        self.init(text)
    }
}

/// A figure or target value as typed: a number, optionally with "%" (for percentages).
struct Amount: ExpressibleByArgument {
    let value: Double
    init?(argument: String) {
        let text = argument.hasSuffix("%") ? String(argument.dropLast()) : argument
        guard let value = Double(text), value.isFinite else { return nil }
        self.value = value
    }
    static var defaultCompletionKind: CompletionKind { .default }
}

extension ReportFormat: ExpressibleByArgument {}

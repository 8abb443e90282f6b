/// One line of a figures import, as decided.
public struct ImportedFigure: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable {
        case submitted, corrected
        /// The period already holds this figure, note and marks: nothing to write.
        case unchanged
    }
    public var line: Int
    public var code: String
    public var period: Period
    public var action: Action
    public var value: Double
    /// The revision written (or, unchanged, the one standing).
    public var revision: Int
    public init(line: Int, code: String, period: Period, action: Action, value: Double, revision: Int) {
        self.line = line; self.code = code; self.period = period; self.action = action; self.value = value; self.revision = revision
    }
}

/// Importing figures from a spreadsheet: every line decided by the rules of `figure.submit`
/// and `figure.correct`, in order (a later line of the same figure corrects an earlier one),
/// all or nothing. Pure.
public enum FigureImportUseCases {
    /// The decisions to write, in line order, and what each line does; refused with every
    /// problem found (the first denial, if any line may not be written by the caller).
    public static func plan(_ principal: Principal, rows: [FigureCSV.Row], indicator: (String) throws -> IndicatorState, graceDays: Int,
                            at time: ChangeTime) throws -> (decisions: [(line: Int, decision: FigureDecision)], lines: [ImportedFigure]) {
        var states: [Int: IndicatorState] = [:]
        var decisions: [(line: Int, decision: FigureDecision)] = [], lines: [ImportedFigure] = [], problems: [FigureCSV.Problem] = []
        for row in rows {
            do {
                let (decision, line) = try decide(principal, row, indicator: { code in
                    let found = try indicator(code)
                    return states[found.id] ?? found
                }, graceDays: graceDays, at: time)
                if let decision {
                    states[decision.indicatorID] = decision.after
                    decisions.append((row.line, decision))
                }
                lines.append(line)
            } catch let denial as Denial {
                throw Denial(unauthenticated: denial.unauthenticated, "line \(row.line): \(denial.message); nothing was imported",
                             missing: denial.missing, hint: denial.hint)
            } catch let problem as FigureCSV.Problem {
                problems.append(problem)
            }
        }
        if let first = problems.first {
            let more = problems.count > 1 ? "; and \(problems.count - 1) more: " + problems.dropFirst().prefix(9).map(\.description).joined(separator: "; ")
                + (problems.count > 10 ? "; ..." : "") : ""
            throw FigureRuleViolation(first.column ?? "content", "\(problems.count) line\(problems.count == 1 ? "" : "s") refused, nothing was imported: \(first)\(more)")
        }
        return (decisions, lines)
    }

    private static func decide(_ principal: Principal, _ row: FigureCSV.Row, indicator: (String) throws -> IndicatorState, graceDays: Int,
                               at time: ChangeTime) throws -> (FigureDecision?, ImportedFigure) {
        func problem(_ column: String?, _ message: String) -> FigureCSV.Problem { FigureCSV.Problem(line: row.line, column: column, message) }
        let code = (row["code"] ?? "").trimmingCharacters(in: .whitespaces), periodText = row["period"] ?? ""
        let plan = row["plan"]?.trimmingCharacters(in: .whitespaces)
        let state: IndicatorState
        do { state = try indicator(plan.map { "\($0):\(code)" } ?? code) } catch let error as StoreError {
            if case .invalid(_, let message) = error { throw problem("code", message) }
            throw problem(plan == nil ? "code" : "plan", "no indicator \"\(code)\"" + (plan.map { " in plan \($0)" } ?? ""))
        }
        guard let period = Period(periodText.trimmingCharacters(in: .whitespaces)) else {
            throw problem("period", "\"\(periodText)\" is not a period like \"2025/26 Q2\" or \"2025/26\"")
        }
        for (column, day) in [("period_start", period.start), ("period_end", period.end)] {
            if let given = row[column]?.trimmingCharacters(in: .whitespaces), given != day.description {
                throw problem(column, "\"\(given)\" is not the \(column == "period_start" ? "first" : "last") day of \(period), \(day)")
            }
        }
        func number(_ column: String) throws -> Double? {
            guard let text = row[column]?.trimmingCharacters(in: .whitespaces) else { return nil }
            guard let value = Double(text.hasSuffix("%") ? String(text.dropLast()) : text), value.isFinite else {
                throw problem(column, "\"\(text)\" is not a number")
            }
            return value
        }
        guard let value = try number("value") else { throw problem("value", "no value") }
        let forecast = try number("forecast")
        let provisional: Bool?
        switch row["provisional"]?.trimmingCharacters(in: .whitespaces).lowercased() {
        case nil: provisional = nil
        case "yes", "true", "1", "y": provisional = true
        case "no", "false", "0", "n": provisional = false
        case let other?: throw problem("provisional", "\"\(other)\" is not yes or no")
        }
        let note = row["note"], reason = row["reason"]
        do {
            guard let current = state.figures[period] else {
                let d = try FigureUseCases.submit(principal, state, period: period, value: value, note: note, provisional: provisional ?? false,
                                                  forecast: forecast, graceDays: graceDays, at: time)
                return (d, ImportedFigure(line: row.line, code: state.code, period: period, action: .submitted, value: value, revision: 1))
            }
            let same = current.value == value && (note == nil || note == current.note) && (provisional ?? current.provisional) == current.provisional
                && (forecast ?? current.forecast) == current.forecast
            if same {
                if let denial = Policy.mayChange(ownedBy: [state.ownerPost], what: "figures of \(state.code)", principal) { throw denial }
                return (nil, ImportedFigure(line: row.line, code: state.code, period: period, action: .unchanged, value: value, revision: current.revision))
            }
            guard let reason else {
                throw problem("reason", """
                    \(state.code) \(period) already has revision \(current.revision) (\(FigureRules.format(current.value))): \
                    a correction needs a reason
                    """)
            }
            let d = try FigureUseCases.correct(principal, state, period: period, value: value, reason: reason, revision: current.revision,
                                               note: note, provisional: provisional, forecast: forecast, at: time)
            return (d, ImportedFigure(line: row.line, code: state.code, period: period, action: .corrected, value: value, revision: d.revision.revision))
        } catch let violation as FigureRuleViolation {
            throw problem(violation.param, violation.message)
        } catch let error as StoreError {
            throw problem(nil, error.description)
        }
    }
}

/// A figure change decided: the revision (or validation) to write, what the database must
/// still hold for it to be written, and its audit and change records.
public struct FigureDecision: Sendable, Equatable {
    public var kind: Change.Kind
    public var indicatorID: Int
    public var code: String
    public var period: Period
    /// The owner post (with the admin post) the caller must still hold today; empty when
    /// only administrators may make the change.
    public var ownerPostIDs: [Int]
    /// The indicator's frequency the decision assumed (a re-import may change it).
    public var frequency: Frequency
    /// The period's current revision the database must still have (0: no figure yet).
    public var expectedRevision: Int
    /// The revision as it stands after the change (a new one, or the current one validated).
    public var revision: FigureRevision
    public var audit: AuditRecord
    /// The `changes` row's detail.
    public var detail: JSONValue
    /// The indicator with the change applied: the reply is computed from it.
    public var after: IndicatorState

    /// The period's status after the change.
    public var status: PeriodStatus? { after.statuses.first { $0.period == period } }
}

/// Submitting, correcting and validating figures: the rules, decided from the caller and the
/// indicator as it stands. Pure; the store writes the decision with its guards in SQL.
public enum FigureUseCases {
    /// The first figure of a period, by a holder of the owner post or an administrator.
    public static func submit(_ principal: Principal, _ indicator: IndicatorState, period: Period, value: Double, note: String?,
                              provisional: Bool = false, forecast: Double? = nil, graceDays: Int, at time: ChangeTime) throws -> FigureDecision {
        try checkChange(principal, indicator, period: period, value: value, today: time.today)
        try checkForecast(forecast, indicator)
        if let retiredIn = indicator.retiredIn {
            // Its past figures may still be corrected; it is no longer reported, so it is owed none.
            throw StoreError.conflict("\(indicator.code) was retired by revision \(retiredIn) of its plan and takes no new figures", hint: nil)
        }
        if let current = indicator.figures[period] {
            throw StoreError.conflict("""
                \(indicator.code) \(period) already has a figure (revision \(current.revision): \(FigureRules.format(current.value)) \
                from \(current.submittedBy))
                """, hint: hint(indicator, "figure.correct", period, revision: current.revision))
        }
        try checkNote(note, indicator, period: period, value: value)
        let late = time.today > Performance.dueDate(of: period, graceDays: graceDays)
        let revision = FigureRevision(period: period, revision: 1, value: value, note: note, reason: nil, submittedBy: principal.login,
                                      submittedAt: time.recordedText, late: late, validatedBy: nil, validatedAt: nil,
                                      provisional: provisional, forecast: forecast)
        return decision(.figureSubmitted, indicator, revision, expected: 0, ownerOnly: true, audit: AuditRecord(
            object: indicator.code, after: JSONValue(encoding: revision),
            message: "\(period): \(FigureRules.format(value))" + marks(revision) + (late ? " (late)" : "")))
    }

    /// A new revision of a period's figure; `revision` must be the current one. The
    /// provisional mark and the forecast carry over unless given; a value left out keeps the
    /// current one (finalising a provisional figure changes only its mark).
    public static func correct(_ principal: Principal, _ indicator: IndicatorState, period: Period, value: Double?, reason: String,
                               revision expected: Int, note: String?, provisional: Bool? = nil, forecast: Double? = nil,
                               at time: ChangeTime) throws -> FigureDecision {
        try checkChange(principal, indicator, period: period, value: value, today: time.today)
        try requireText(reason, param: "reason", "a correction needs a reason")
        guard let current = indicator.figures[period] else {
            throw StoreError.conflict("\(indicator.code) \(period) has no figure to correct", hint: hint(indicator, "figure.submit", period))
        }
        try checkForecast(forecast, indicator)
        guard current.revision == expected else {
            throw StoreError.conflict("""
                revision \(expected) of \(indicator.code) \(period) is no longer current: revision \(current.revision) \
                (\(FigureRules.format(current.value)) from \(current.submittedBy)) is
                """, hint: hint(indicator, "figure.history", period))
        }
        let marksOnly = value == nil
        let value = value ?? current.value, provisional = provisional ?? current.provisional, forecast = forecast ?? current.forecast
        // The commentary carries over unless the correction brings its own.
        let note = note ?? current.note
        // Without a value only the marks change; a revision that changes none of them is refused.
        guard !marksOnly || provisional != current.provisional || forecast != current.forecast || note != current.note else {
            throw FigureRuleViolation("value", """
                the correction changes nothing: revision \(current.revision) of \(indicator.code) \(period) is already \
                \(FigureRules.format(current.value))\(current.provisional ? " (provisional)" : ", final")
                """)
        }
        try checkNote(note, indicator, period: period, value: value)
        let revision = FigureRevision(period: period, revision: current.revision + 1, value: value, note: note, reason: reason,
                                      submittedBy: principal.login, submittedAt: time.recordedText, late: current.late,
                                      validatedBy: nil, validatedAt: nil, provisional: provisional, forecast: forecast)
        return decision(.figureCorrected, indicator, revision, expected: current.revision, ownerOnly: true, audit: AuditRecord(
            object: indicator.code, before: JSONValue(encoding: current), after: JSONValue(encoding: revision),
            message: "\(period): \(FigureRules.format(current.value))\(marks(current)) → \(FigureRules.format(value))\(marks(revision))"))
    }

    /// How a revision's marks read in an audit message: " (provisional, forecast 410)".
    static func marks(_ revision: FigureRevision) -> String {
        let marks = [revision.provisional ? "provisional" : nil, revision.forecast.map { "forecast \(FigureRules.format($0))" }]
            .compactMap { $0 }
        return marks.isEmpty ? "" : " (\(marks.joined(separator: ", ")))"
    }

    /// A year-end forecast comes with a quarterly figure and suits the indicator's unit.
    private static func checkForecast(_ forecast: Double?, _ indicator: IndicatorState) throws {
        guard let forecast else { return }
        guard indicator.frequency == .quarterly else {
            throw FigureRuleViolation("forecast", "\(indicator.code) is reported annually: a year-end forecast comes with a quarterly figure")
        }
        try FigureRules.checkValue(forecast, unit: indicator.unit, param: "forecast")
    }

    /// An administrator's check of a period's current revision (`revision`, when given, must
    /// be it). Nil when it is validated already: nothing to write.
    public static func validate(_ principal: Principal, _ indicator: IndicatorState, period: Period, revision expected: Int?,
                                at time: ChangeTime) throws -> FigureDecision? {
        if let denial = Policy.check(.admin, principal) { throw denial }
        // A figure kept from before a re-import changed the indicator's frequency or the
        // plan's years is history: it can be read, not validated.
        try FigureRules.checkPeriod(period, frequency: indicator.frequency, firstYear: indicator.firstYear, lastYear: indicator.lastYear,
                                    endedBy: nil)
        guard let current = indicator.figures[period] else {
            throw StoreError.notFound(kind: "figure of \(indicator.code) for", key: period.description)
        }
        if let expected, expected != current.revision {
            throw StoreError.conflict("revision \(expected) of \(indicator.code) \(period) is no longer current: revision \(current.revision) is",
                                      hint: hint(indicator, "figure.history", period))
        }
        guard current.validatedBy == nil else { return nil }
        var validated = current
        validated.validatedBy = principal.login
        validated.validatedAt = time.recordedText
        return decision(.figureValidated, indicator, validated, expected: current.revision, ownerOnly: false, audit: AuditRecord(
            object: indicator.code, before: JSONValue(encoding: current), after: JSONValue(encoding: validated),
            message: "\(period): revision \(current.revision) validated"))
    }

    /// Permission first, so a refusal reveals nothing about the input; then the period and value.
    private static func checkChange(_ principal: Principal, _ indicator: IndicatorState, period: Period, value: Double?,
                                    today: CalendarDate) throws {
        if let denial = Policy.mayChange(ownedBy: [indicator.ownerPost], what: "figures of \(indicator.code)", principal) { throw denial }
        try FigureRules.checkPeriod(period, frequency: indicator.frequency, firstYear: indicator.firstYear, lastYear: indicator.lastYear,
                                    endedBy: today)
        if let value { try FigureRules.checkValue(value, unit: indicator.unit) }
    }

    private static func checkNote(_ note: String?, _ indicator: IndicatorState, period: Period, value: Double) throws {
        let target = indicator.target(for: period)
        let rag = Performance.rag(value: value, target: target, polarity: indicator.polarity, tolerance: indicator.tolerance)
        try FigureRules.checkNote(note, rag: rag, value: value, target: target)
    }

    private static func decision(_ kind: Change.Kind, _ indicator: IndicatorState, _ revision: FigureRevision, expected: Int,
                                 ownerOnly: Bool, audit: AuditRecord) -> FigureDecision {
        var after = indicator
        after.figures[revision.period] = revision
        var detail: [String: JSONValue] = [
            "indicator": .string(indicator.code), "objective": indicator.objective.map(JSONValue.string) ?? .null,
            "ownerPost": .string(indicator.ownerPost), "period": .string(revision.period.description),
            "revision": .number(Double(revision.revision)), "value": .number(revision.value), "late": .bool(revision.late),
            "provisional": .bool(revision.provisional), "forecast": revision.forecast.map(JSONValue.number) ?? .null,
        ]
        if kind == .figureCorrected {
            detail["reason"] = revision.reason.map(JSONValue.string) ?? .null
            // The value it replaces, so a watcher's line reads "120 → 118" without a query.
            detail["previousValue"] = indicator.figures[revision.period].map { .number($0.value) } ?? .null
        }
        return FigureDecision(kind: kind, indicatorID: indicator.id, code: indicator.code, period: revision.period,
                              ownerPostIDs: ownerOnly ? [indicator.ownerPostID] : [], frequency: indicator.frequency,
                              expectedRevision: expected, revision: revision, audit: audit, detail: .object(detail), after: after)
    }

    /// `method` with the indicator's code and `period` (and `revision` if given) as its parameters.
    static func hint(_ indicator: IndicatorState, _ method: String, _ period: Period, revision: Int? = nil) -> Hint {
        var parameters = ["code": indicator.code, "period": period.description]
        parameters["revision"] = revision.map(String.init)
        return Hint(method, parameters)
    }
}

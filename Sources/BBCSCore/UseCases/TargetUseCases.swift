/// A target change decided: the period's new target (and the indicator's tolerance), what the
/// database must still hold, and its history, audit and change records.
public struct TargetDecision: Sendable, Equatable {
    public var indicatorID: Int
    public var code: String
    public var period: Period
    /// The period's own target the database must still have (nil: none).
    public var expectedValue: Double?
    /// The new tolerance, when the change sets one.
    public var tolerance: Double?
    /// The history row.
    public var change: TargetChange
    public var audit: AuditRecord
    public var detail: JSONValue
    /// The indicator with the change applied.
    public var after: IndicatorState
}

/// Setting an indicator's target for a period: administrators only, with a reason.
public enum TargetUseCases {
    public static func set(_ principal: Principal, _ indicator: IndicatorState, period: Period, value: Double, tolerance: Double?,
                           reason: String, at time: ChangeTime) throws -> TargetDecision {
        if let denial = Policy.check(.admin, principal) { throw denial }
        try FigureRules.checkTargetPeriod(period, frequency: indicator.frequency, firstYear: indicator.firstYear, lastYear: indicator.lastYear)
        try FigureRules.checkValue(value, unit: indicator.unit)
        if let tolerance { try FigureRules.checkTolerance(tolerance) }
        try requireText(reason, param: "reason", "a target change needs a reason")
        let oldValue = indicator.targets[period]
        let newTolerance = tolerance ?? indicator.tolerance
        let change = TargetChange(period: period, oldValue: oldValue, newValue: value, oldTolerance: indicator.tolerance,
                                  newTolerance: newTolerance, reason: reason, changedBy: principal.login, changedAt: time.recordedText)
        var after = indicator
        after.targets[period] = value
        after.tolerance = newTolerance
        func number(_ value: Double?) -> JSONValue { value.map(JSONValue.number) ?? .null }
        let detail: JSONValue = .object([
            "indicator": .string(indicator.code), "objective": indicator.objective.map(JSONValue.string) ?? .null,
            "ownerPost": .string(indicator.ownerPost), "period": .string(period.description), "value": .number(value),
            "tolerance": number(newTolerance),
        ])
        return TargetDecision(
            indicatorID: indicator.id, code: indicator.code, period: period, expectedValue: oldValue, tolerance: tolerance,
            change: change,
            audit: AuditRecord(object: indicator.code, before: .object(["value": number(oldValue), "tolerance": number(indicator.tolerance)]),
                               after: .object(["value": .number(value), "tolerance": number(newTolerance)]),
                               message: "target \(period): \(reason)"),
            detail: detail, after: after)
    }
}

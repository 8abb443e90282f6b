/// How an indicator is reported in the plan.
public enum IndicatorCategory: String, Codable, Sendable, CaseIterable {
    case serviceData = "service_data"
    case csi, kpi, mpi
}

/// What an indicator's values count.
public enum IndicatorUnit: String, Codable, Sendable, CaseIterable {
    case count, percent
}

/// Which direction of an indicator's value is good.
public enum Polarity: String, Codable, Sendable, CaseIterable {
    case lowerIsBetter = "lower_is_better"
    case higherIsBetter = "higher_is_better"
    case none
}

/// How often an indicator's figures fall due.
public enum Frequency: String, Codable, Sendable, CaseIterable {
    case annual, quarterly
}

/// The state of a key task. "Overdue" is derived from the target date, never stored.
public enum TaskStatus: String, Codable, Sendable, CaseIterable {
    case notStarted = "not_started"
    case onTrack = "on_track"
    case atRisk = "at_risk"
    case offTrack = "off_track"
    case completed, deferred, cancelled
}

/// The kind of a budget line in the plan.
public enum BudgetKind: String, Codable, Sendable, CaseIterable {
    case implication, efficiency, income, net
}

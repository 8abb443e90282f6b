/// A reporting round: the figures of one period collected by a deadline for one meeting
/// (Cabinet, Scrutiny), opened and closed by an administrator.
public struct ReportingRound: Codable, Sendable, Equatable {
    public var id: Int
    /// The plan's code.
    public var plan: String
    public var period: Period
    /// The day the round's figures are wanted by.
    public var deadline: CalendarDate
    /// The meeting the round reports to: "Cabinet 2025-12-02".
    public var meeting: String
    public var openedBy: String
    /// Europe/London local time.
    public var openedAt: String
    public var closedBy: String?
    public var closedAt: String?
    /// Why a round was closed with figures missing.
    public var closeReason: String?
    /// Closed with figures missing.
    public var forced: Bool

    public init(id: Int, plan: String, period: Period, deadline: CalendarDate, meeting: String, openedBy: String, openedAt: String,
                closedBy: String? = nil, closedAt: String? = nil, closeReason: String? = nil, forced: Bool = false) {
        self.id = id; self.plan = plan; self.period = period; self.deadline = deadline; self.meeting = meeting
        self.openedBy = openedBy; self.openedAt = openedAt; self.closedBy = closedBy; self.closedAt = closedAt
        self.closeReason = closeReason; self.forced = forced
    }

    public var isOpen: Bool { closedAt == nil }

    /// The period an indicator reports in this round: the quarter for quarterly indicators,
    /// the year for annual ones.
    public func reportedPeriod(_ frequency: Frequency) -> Period {
        frequency == .annual ? period.year : (period.quarter == nil ? Period(startYear: period.startYear, quarter: 4) : period)
    }

    /// The round wants a figure of this indicator: of the round's plan, and its reported
    /// period ends before the deadline (an annual figure is not wanted in a Q2 round).
    public func wants(_ indicator: IndicatorState, planID: Int) -> Bool {
        indicator.planID == planID && !indicator.isRetired && reportedPeriod(indicator.frequency).end < deadline
    }
}

/// How far a round has got: figures wanted, submitted, validated, provisional and missing,
/// in all, by owner post and by service area.
public struct RoundProgress: Codable, Sendable, Equatable {
    public struct Tally: Codable, Sendable, Equatable {
        /// The post's or service area's name; "" for the whole round.
        public var name: String
        public var wanted: Int
        public var submitted: Int
        public var validated: Int
        public var provisional: Int
        public var missing: Int
        public init(name: String, wanted: Int = 0, submitted: Int = 0, validated: Int = 0, provisional: Int = 0, missing: Int = 0) {
            self.name = name; self.wanted = wanted; self.submitted = submitted; self.validated = validated
            self.provisional = provisional; self.missing = missing
        }
    }

    /// A figure the round still needs.
    public struct Missing: Codable, Sendable, Equatable {
        public var indicator: String
        public var title: String
        public var ownerPost: String
        public var period: Period
        public init(indicator: String, title: String, ownerPost: String, period: Period) {
            self.indicator = indicator; self.title = title; self.ownerPost = ownerPost; self.period = period
        }
    }

    public var round: ReportingRound
    public var total: Tally
    public var byOwner: [Tally]
    public var byServiceArea: [Tally]
    public var missing: [Missing]

    public init(round: ReportingRound, total: Tally, byOwner: [Tally], byServiceArea: [Tally], missing: [Missing]) {
        self.round = round; self.total = total; self.byOwner = byOwner; self.byServiceArea = byServiceArea; self.missing = missing
    }

    /// The round's progress over `indicators` (of any plan; only the round's plan's count).
    public init(round: ReportingRound, planID: Int, indicators: [IndicatorState]) {
        var total = Tally(name: "")
        var owners: [String: Tally] = [:], areas: [String: Tally] = [:]
        var missing: [Missing] = []
        for indicator in indicators where round.wants(indicator, planID: planID) {
            let period = round.reportedPeriod(indicator.frequency)
            let figure = indicator.figures[period]
            func count(_ tally: inout Tally) {
                tally.wanted += 1
                guard let figure else { tally.missing += 1; return }
                tally.submitted += 1
                if figure.validatedBy != nil { tally.validated += 1 }
                if figure.provisional { tally.provisional += 1 }
            }
            count(&total)
            count(&owners[indicator.ownerPost, default: Tally(name: indicator.ownerPost)])
            let area = indicator.serviceArea
            count(&areas[area, default: Tally(name: area)])
            if figure == nil {
                missing.append(Missing(indicator: indicator.code, title: indicator.title, ownerPost: indicator.ownerPost, period: period))
            }
        }
        self.init(round: round, total: total, byOwner: owners.values.sorted { $0.name < $1.name },
                  byServiceArea: areas.values.sorted { $0.name < $1.name }, missing: missing)
    }
}

/// What the daemon holds of the reporting cycle: its rounds, newest period first, and the
/// reports published from them, oldest first (without their documents).
public struct CycleState: Sendable, Equatable {
    public var rounds: [ReportingRound]
    public var published: [Publication]
    /// Each risk's latest review, by plan id and risk id.
    public var reviews: [Int: [String: RiskReview]]
    public init(rounds: [ReportingRound] = [], published: [Publication] = [], reviews: [Int: [String: RiskReview]] = [:]) {
        self.rounds = rounds; self.published = published; self.reviews = reviews
    }

    /// Each risk of the plan with `planID`'s latest review, by risk id.
    public func reviews(of planID: Int) -> [String: RiskReview] { reviews[planID] ?? [:] }

    /// The round of `plan` for `period`, if one was opened.
    public func round(plan: String, period: Period) -> ReportingRound? {
        rounds.first { $0.plan == plan && $0.period == period }
    }

    /// The open rounds of `plan`.
    public func open(plan: String) -> [ReportingRound] { rounds.filter { $0.plan == plan && $0.isOpen } }
}

/// Read models of what users change: figures, targets, users, posts, the audit trail.

/// Any JSON value: the before and after of an audit row.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let n = try? container.decode(Double.self) { self = .number(n) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n): try container.encode(n)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}

/// One revision of a submitted figure.
public struct FigureRevision: Codable, Sendable, Equatable {
    public var period: Period
    public var revision: Int
    public var value: Double
    /// The owner's commentary.
    public var note: String?
    /// Why a correction was made; nil on the first revision.
    public var reason: String?
    public var submittedBy: String
    /// Europe/London local time, "2026-07-14T09:30:00".
    public var submittedAt: String
    /// Submitted after the period's due date.
    public var late: Bool
    /// The administrator who checked this revision, if one has.
    public var validatedBy: String?
    public var validatedAt: String?
    /// An estimate the owner will confirm (a provisional out-turn); finalising is a
    /// correction that clears this mark.
    public var provisional: Bool
    /// The owner's forecast of the year-end outturn, given with a quarterly figure.
    public var forecast: Double?

    public init(period: Period, revision: Int, value: Double, note: String?, reason: String?, submittedBy: String,
                submittedAt: String, late: Bool, validatedBy: String?, validatedAt: String?, provisional: Bool = false,
                forecast: Double? = nil) {
        self.period = period; self.revision = revision; self.value = value; self.note = note; self.reason = reason
        self.submittedBy = submittedBy; self.submittedAt = submittedAt; self.late = late
        self.validatedBy = validatedBy; self.validatedAt = validatedAt; self.provisional = provisional; self.forecast = forecast
    }

    private enum CodingKeys: String, CodingKey {
        case period, revision, value, note, reason, submittedBy, submittedAt, late, validatedBy, validatedAt, provisional, forecast
    }

    /// Revisions recorded before the marks existed (in the audit trail, say) read as final
    /// and without a forecast.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(period: try c.decode(Period.self, forKey: .period), revision: try c.decode(Int.self, forKey: .revision),
                  value: try c.decode(Double.self, forKey: .value), note: try c.decodeIfPresent(String.self, forKey: .note),
                  reason: try c.decodeIfPresent(String.self, forKey: .reason), submittedBy: try c.decode(String.self, forKey: .submittedBy),
                  submittedAt: try c.decode(String.self, forKey: .submittedAt), late: try c.decode(Bool.self, forKey: .late),
                  validatedBy: try c.decodeIfPresent(String.self, forKey: .validatedBy),
                  validatedAt: try c.decodeIfPresent(String.self, forKey: .validatedAt),
                  provisional: try c.decodeIfPresent(Bool.self, forKey: .provisional) ?? false,
                  forecast: try c.decodeIfPresent(Double.self, forKey: .forecast))
    }
}

/// How an indicator stands in one period.
public struct PeriodStatus: Codable, Sendable, Equatable {
    public var period: Period
    public var target: Double?
    public var targetSource: Performance.TargetSource?
    /// The current revision, if a figure was submitted.
    public var figure: FigureRevision?
    /// The plan's baseline actual for this period, when it reports one.
    public var actual: Double?
    public var rag: RAG
    /// Against the previous period.
    public var sincePrevious: Travel?
    /// Against the same period a year earlier.
    public var sinceYearEarlier: Travel?
    /// The year's target the forecast is judged against; only with a forecast.
    public var annualTarget: Double?
    /// The figure's year-end forecast against the year's target; nil without a forecast
    /// (never guessed from the quarter).
    public var forecastRAG: RAG?

    public init(period: Period, target: Double?, targetSource: Performance.TargetSource?, figure: FigureRevision?,
                actual: Double?, rag: RAG, sincePrevious: Travel?, sinceYearEarlier: Travel?, annualTarget: Double? = nil,
                forecastRAG: RAG? = nil) {
        self.period = period; self.target = target; self.targetSource = targetSource; self.figure = figure
        self.actual = actual; self.rag = rag; self.sincePrevious = sincePrevious; self.sinceYearEarlier = sinceYearEarlier
        self.annualTarget = annualTarget; self.forecastRAG = forecastRAG
    }

    /// The value that counts for the period: the current figure, else the plan's actual.
    public var value: Double? { figure?.value ?? actual }
}

extension Performance {
    /// Every period of the plan for one indicator (and any other period holding a figure or
    /// an actual), with target, RAG and direction of travel.
    public static func statuses(unit: IndicatorUnit, polarity: Polarity, frequency: Frequency, tolerance: Double?,
                                targets: [Period: Double], actuals: [Period: Double], figures: [Period: FigureRevision],
                                firstYear: Period, lastYear: Period) -> [PeriodStatus] {
        var periods = Set(periods(frequency: frequency, firstYear: firstYear, lastYear: lastYear))
        periods.formUnion(figures.keys)
        func value(_ period: Period) -> Double? { figures[period]?.value ?? actuals[period] }
        return periods.sorted().map { period in
            let target = target(for: period, unit: unit, targets: targets)
            let forecast = period.isQuarter ? figures[period]?.forecast : nil
            let annualTarget = forecast == nil ? nil : Self.annualTarget(of: period.year, unit: unit, targets: targets)
            return PeriodStatus(
                period: period, target: target?.value, targetSource: target?.source, figure: figures[period],
                actual: actuals[period],
                rag: rag(value: value(period), target: target?.value, polarity: polarity, tolerance: tolerance),
                sincePrevious: travel(from: value(period.previous), to: value(period), polarity: polarity),
                sinceYearEarlier: travel(from: value(period.yearEarlier), to: value(period), polarity: polarity),
                annualTarget: annualTarget,
                forecastRAG: forecast.map { rag(value: $0, target: annualTarget, polarity: polarity, tolerance: tolerance) })
        }
    }
}

/// A figure the caller's posts owe.
public struct DueFigure: Codable, Sendable, Equatable {
    public var indicator: String
    public var title: String
    public var ownerPost: String
    public var period: Period
    public var dueDate: CalendarDate
    /// The due date has passed.
    public var overdue: Bool
    /// The period has not ended yet: the figure cannot be submitted before its end.
    public var open: Bool
    /// An open reporting round wants this figure by this day, for `meeting`.
    public var roundDeadline: CalendarDate?
    public var meeting: String?
    public init(indicator: String, title: String, ownerPost: String, period: Period, dueDate: CalendarDate, overdue: Bool, open: Bool,
                roundDeadline: CalendarDate? = nil, meeting: String? = nil) {
        self.indicator = indicator; self.title = title; self.ownerPost = ownerPost; self.period = period
        self.dueDate = dueDate; self.overdue = overdue; self.open = open; self.roundDeadline = roundDeadline; self.meeting = meeting
    }
}

/// One change of an indicator's target or tolerance.
public struct TargetChange: Codable, Sendable, Equatable {
    public var period: Period
    public var oldValue: Double?
    public var newValue: Double
    public var oldTolerance: Double?
    public var newTolerance: Double?
    public var reason: String
    public var changedBy: String
    public var changedAt: String
    public init(period: Period, oldValue: Double?, newValue: Double, oldTolerance: Double?, newTolerance: Double?,
                reason: String, changedBy: String, changedAt: String) {
        self.period = period; self.oldValue = oldValue; self.newValue = newValue; self.oldTolerance = oldTolerance
        self.newTolerance = newTolerance; self.reason = reason; self.changedBy = changedBy; self.changedAt = changedAt
    }
}

/// A post held by a user for a time.
public struct PostHolding: Codable, Sendable, Equatable {
    public var login: String
    public var post: String
    public var from: CalendarDate
    /// Last day held; nil when open-ended.
    public var until: CalendarDate?
    /// Held today.
    public var current: Bool
    public var grantedBy: String
    public var revokedBy: String?
    public init(login: String, post: String, from: CalendarDate, until: CalendarDate?, current: Bool, grantedBy: String, revokedBy: String?) {
        self.login = login; self.post = post; self.from = from; self.until = until; self.current = current
        self.grantedBy = grantedBy; self.revokedBy = revokedBy
    }
}

public struct UserSummary: Codable, Sendable, Equatable {
    public var login: String
    public var name: String
    public var email: String?
    public var disabled: Bool
    /// Holdings not revoked: current, future and ended cover.
    public var posts: [PostHolding]
    public init(login: String, name: String, email: String?, disabled: Bool, posts: [PostHolding]) {
        self.login = login; self.name = name; self.email = email; self.disabled = disabled; self.posts = posts
    }
}

/// One row of the audit trail.
public struct AuditEntry: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable, CaseIterable {
        case ok, denied, unauthenticated
    }
    public var id: Int
    /// Europe/London local time with seconds.
    public var at: String
    public var login: String
    public var uid: UInt32
    public var pid: Int32
    public var method: String
    public var object: String?
    public var outcome: Outcome
    public var before: JSONValue?
    public var after: JSONValue?
    public var message: String?
    /// How many identical refused attempts the row stands for (1 but in a refusal storm),
    /// made from `at` to `lastAt`.
    public var attempts: Int
    /// Europe/London local time of the last attempt a row of several stands for.
    public var lastAt: String?
    public init(id: Int, at: String, login: String, uid: UInt32, pid: Int32, method: String, object: String?,
                outcome: Outcome, before: JSONValue?, after: JSONValue?, message: String?, attempts: Int = 1, lastAt: String? = nil) {
        self.id = id; self.at = at; self.login = login; self.uid = uid; self.pid = pid; self.method = method
        self.object = object; self.outcome = outcome; self.before = before; self.after = after; self.message = message
        self.attempts = attempts; self.lastAt = lastAt
    }
}

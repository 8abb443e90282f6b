/// A report frozen for a round's meeting: its citable number, who published it and when, the
/// SHA-256 of its JSON and HTML, and the figures it contained.
public struct Publication: Codable, Sendable, Equatable {
    /// "CS-2025/26-Q2-1": the plan's short code, the period, and the how-manieth
    /// publication of that round.
    public var number: String
    public var plan: String
    public var period: Period
    public var meeting: String
    public var publishedBy: String
    /// Europe/London local time.
    public var publishedAt: String
    public var jsonSHA256: String
    public var htmlSHA256: String
    /// The figures the report showed, by indicator code and period.
    public var figures: [ReportedFigure]
    /// The risk scores it showed, by risk id.
    public var riskScores: [String: Int]
    /// The restatements it listed: the meeting has been told of these.
    public var restatements: [Restatement]

    public init(number: String, plan: String, period: Period, meeting: String, publishedBy: String, publishedAt: String,
                jsonSHA256: String, htmlSHA256: String, figures: [ReportedFigure], riskScores: [String: Int] = [:],
                restatements: [Restatement] = []) {
        self.number = number; self.plan = plan; self.period = period; self.meeting = meeting; self.publishedBy = publishedBy
        self.publishedAt = publishedAt; self.jsonSHA256 = jsonSHA256; self.htmlSHA256 = htmlSHA256; self.figures = figures
        self.riskScores = riskScores; self.restatements = restatements
    }

    /// The number of the `ordinal`-th publication of `plan`'s round for `period`.
    public static func number(plan: String, period: Period, ordinal: Int) -> String {
        let short = plan.split(separator: "-").first.map(String.init) ?? plan
        return "\(short)-\(period.description.replacingOccurrences(of: " ", with: "-"))-\(ordinal)"
    }
}

/// One figure as a published report showed it.
public struct ReportedFigure: Codable, Sendable, Equatable {
    public var indicator: String
    public var period: Period
    public var revision: Int
    public var value: Double
    public var provisional: Bool
    public init(indicator: String, period: Period, revision: Int, value: Double, provisional: Bool) {
        self.indicator = indicator; self.period = period; self.revision = revision; self.value = value; self.provisional = provisional
    }
}

/// A figure corrected after a published report showed it: what the meeting was told and
/// what the figure is now.
public struct Restatement: Codable, Sendable, Equatable {
    public var indicator: String
    public var period: Period
    /// The published report that showed the old value, and its meeting.
    public var report: String
    public var meeting: String
    public var reportedValue: Double
    public var reportedRevision: Int
    public var restatedValue: Double
    public var revision: Int
    public var reason: String?
    public var by: String
    /// Europe/London local time of the correction.
    public var at: String
    public init(indicator: String, period: Period, report: String, meeting: String, reportedValue: Double, reportedRevision: Int,
                restatedValue: Double, revision: Int, reason: String?, by: String, at: String) {
        self.indicator = indicator; self.period = period; self.report = report; self.meeting = meeting
        self.reportedValue = reportedValue; self.reportedRevision = reportedRevision; self.restatedValue = restatedValue
        self.revision = revision; self.reason = reason; self.by = by; self.at = at
    }
}

extension CycleState {
    /// The publications of `plan`, oldest first.
    public func publications(plan: String) -> [Publication] { published.filter { $0.plan == plan } }

    /// Corrections of figures that `publications` showed, whose value now differs from what
    /// the meeting was told (the newest report showing each figure counts); with `unlisted`,
    /// only those no publication has listed yet (what the next report must tell).
    public static func restatements(of publications: [Publication], indicators: [IndicatorState], unlisted: Bool = false) -> [Restatement] {
        let listed = unlisted ? Set(publications.flatMap(\.restatements).map { "\($0.indicator)\u{0}\($0.period)\u{0}\($0.revision)" }) : []
        var shown: [String: (Publication, ReportedFigure)] = [:]
        var order: [String] = []
        for publication in publications {
            for figure in publication.figures {
                let key = "\(figure.indicator)\u{0}\(figure.period)"
                if shown[key] == nil { order.append(key) }
                shown[key] = (publication, figure)
            }
        }
        let byCode = Dictionary(indicators.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
        return order.compactMap { key in
            guard let (publication, reported) = shown[key], let current = byCode[reported.indicator]?.figures[reported.period],
                  current.revision > reported.revision, current.value != reported.value,
                  !listed.contains("\(key)\u{0}\(current.revision)") else { return nil }
            return Restatement(indicator: reported.indicator, period: reported.period, report: publication.number,
                               meeting: publication.meeting, reportedValue: reported.value, reportedRevision: reported.revision,
                               restatedValue: current.value, revision: current.revision, reason: current.reason,
                               by: current.submittedBy, at: current.submittedAt)
        }
    }
}

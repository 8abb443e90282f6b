/// The council's risk matrix: likelihood and impact each scored 1 to `size`, their product
/// falling in one of its bands.
public struct RiskMatrix: Codable, Sendable, Equatable {
    /// A band's name and the highest score in it; bands run upward from 1, the last ends at size².
    public struct Band: Codable, Sendable, Equatable {
        public var name: String
        public var upTo: Int
        public init(_ name: String, upTo: Int) { self.name = name; self.upTo = upTo }
    }

    public var size: Int
    public var bands: [Band]

    /// 4x4: low 1-3, medium 4-7, high 8-11, very high 12-16.
    public static let standard = RiskMatrix(uncheckedSize: 4, bands: [Band("low", upTo: 3), Band("medium", upTo: 7), Band("high", upTo: 11),
                                                                    Band("very high", upTo: 16)])

    private init(uncheckedSize size: Int, bands: [Band]) { self.size = size; self.bands = bands }

    /// A matrix of `size` (2 to 10) with bands written "low 3, medium 7, high 11, very high 16":
    /// each name with the highest score in it, rising, the last at size².
    public init(size: Int, bands text: String) throws(FigureRuleViolation) {
        guard (2...10).contains(size) else { throw FigureRuleViolation("risk_matrix_size", "the risk matrix is 2x2 to 10x10 (got \(size))") }
        var bands: [Band] = []
        for part in text.split(separator: ",") {
            let words = part.split(separator: " ")
            guard let last = words.last, let upTo = Int(last), words.count >= 2 else {
                throw FigureRuleViolation("risk_bands", "each band is a name and its highest score, e.g. \"medium 7\" (got \"\(part.trimmingCharacters(in: .whitespaces))\")")
            }
            guard upTo > (bands.last?.upTo ?? 0) else { throw FigureRuleViolation("risk_bands", "bands must rise: \(upTo) does not") }
            bands.append(Band(words.dropLast().joined(separator: " "), upTo: upTo))
        }
        guard bands.last?.upTo == size * size else {
            throw FigureRuleViolation("risk_bands", "the last band must end at \(size * size), the highest score of a \(size)x\(size) matrix")
        }
        self.init(uncheckedSize: size, bands: bands)
    }

    /// The band a score falls in.
    public func band(of score: Int) -> String { bands.first { score <= $0.upTo }?.name ?? bands.last?.name ?? "" }

    /// Refuses a likelihood or impact off the matrix.
    public func check(_ value: Int, param: String) throws(FigureRuleViolation) {
        guard (1...size).contains(value) else { throw FigureRuleViolation(param, "\(param) is scored 1 to \(size) on the council's \(size)x\(size) matrix (got \(value))") }
    }
}

/// Which register a risk is in.
public enum RiskKind: String, Codable, Sendable {
    /// A strategic risk register entry the plan cites ("SR3").
    case strategic
    /// One of the plan's key strategic risks ("KSR1").
    case key
    /// A key task's risk ("BCRPASB_29/R1").
    case task
}

/// One scoring of a risk, with who reviewed it and why.
public struct RiskReview: Codable, Sendable, Equatable {
    public var risk: String
    public var likelihood: Int
    public var impact: Int
    public var score: Int
    public var band: String
    public var note: String
    public var by: String
    /// Europe/London local time.
    public var at: String
    public init(risk: String, likelihood: Int, impact: Int, score: Int, band: String, note: String, by: String, at: String) {
        self.risk = risk; self.likelihood = likelihood; self.impact = impact; self.score = score; self.band = band
        self.note = note; self.by = by; self.at = at
    }
}

/// How a risk's score moved since the previous published report.
public enum RiskMovement: String, Codable, Sendable {
    case up, down, unchanged
    /// Not scored in the previous published report (or there is none).
    case new
}

/// One risk of the register as it stands: what it is, the tasks it is linked to, and its
/// latest review.
public struct RiskEntry: Codable, Sendable, Equatable {
    public var id: String
    public var kind: RiskKind
    public var title: String
    public var mitigation: String?
    /// Codes of the linked key tasks.
    public var tasks: [String]
    /// The strategic risks a task's risk is covered by.
    public var strategicRisks: [Int]
    /// The posts whose holders may review it (with administrators).
    public var posts: [String]
    public var review: RiskReview?
    public init(id: String, kind: RiskKind, title: String, mitigation: String?, tasks: [String], strategicRisks: [Int], posts: [String],
                review: RiskReview?) {
        self.id = id; self.kind = kind; self.title = title; self.mitigation = mitigation; self.tasks = tasks
        self.strategicRisks = strategicRisks; self.posts = posts; self.review = review
    }

    /// Every risk of `plan`'s register: the strategic risks cited, the key strategic risks and
    /// each task's risks, in that order, with their latest reviews.
    public static func register(risks: RiskRegister, tasks: [TaskState], planID: Int, reviews: [String: RiskReview]) -> [RiskEntry] {
        let tasks = tasks.filter { $0.planID == planID && !$0.isRetired }
        var entries: [RiskEntry] = []
        for risk in risks.strategicRisks {
            let linked = tasks.filter { $0.risks.contains { $0.strategicRisks.contains(risk.number) } }
            let id = "SR\(risk.number)"
            entries.append(RiskEntry(id: id, kind: .strategic, title: risk.title ?? "Strategic risk \(risk.number)", mitigation: nil,
                                     tasks: linked.map(\.code), strategicRisks: [risk.number], posts: unique(linked.flatMap(\.responsiblePosts)),
                                     review: reviews[id]))
        }
        for (n, risk) in risks.keyStrategicRisks.enumerated() {
            let id = "KSR\(n + 1)"
            entries.append(RiskEntry(id: id, kind: .key, title: risk.risk, mitigation: risk.mitigation, tasks: [], strategicRisks: [],
                                     posts: [], review: reviews[id]))
        }
        for task in tasks {
            for (n, risk) in task.risks.enumerated() {
                let id = "\(task.code)/R\(n + 1)"
                entries.append(RiskEntry(id: id, kind: .task, title: risk.threat, mitigation: risk.mitigation, tasks: [task.code],
                                         strategicRisks: risk.strategicRisks, posts: task.responsiblePosts, review: reviews[id]))
            }
        }
        return entries
    }

    private static func unique(_ posts: [String]) -> [String] {
        var seen = Set<String>()
        return posts.filter { seen.insert($0).inserted }
    }
}

/// Reviewing a risk: scored on the matrix, with a note, by a holder of a linked task's post or
/// an administrator. Pure; the store appends the review.
public enum RiskUseCases {
    public static func review(_ principal: Principal, _ entry: RiskEntry, likelihood: Int, impact: Int, note: String, matrix: RiskMatrix,
                              at time: ChangeTime) throws -> (review: RiskReview, audit: AuditRecord, detail: JSONValue) {
        // A key strategic risk is linked to no task: administrators score it.
        if let denial = entry.posts.isEmpty ? Policy.check(.admin, principal)
                                            : Policy.mayChange(ownedBy: entry.posts, what: "the score of risk \(entry.id)", principal) {
            throw denial
        }
        try matrix.check(likelihood, param: "likelihood")
        try matrix.check(impact, param: "impact")
        try requireText(note, param: "note", "a risk review needs a note saying what changed or why it stands")
        let score = likelihood * impact
        let review = RiskReview(risk: entry.id, likelihood: likelihood, impact: impact, score: score, band: matrix.band(of: score),
                                note: note, by: principal.login, at: time.recordedText)
        let before = entry.review.map { "\($0.score) (\($0.band))" } ?? "unscored"
        return (review, AuditRecord(object: entry.id, before: entry.review.map { JSONValue(encoding: $0) }, after: JSONValue(encoding: review),
                                    message: "risk \(entry.id): \(before) → \(score) (\(review.band))"),
                .object(["risk": .string(entry.id), "score": .number(Double(score)), "band": .string(review.band)]))
    }

    /// How `score` moved from the one the previous published report showed (nil: none shown).
    public static func movement(_ score: Int?, since previous: Int?) -> RiskMovement? {
        guard let score else { return nil }
        guard let previous else { return .new }
        return score > previous ? .up : score < previous ? .down : .unchanged
    }
}

import Foundation

/// A business plan as its data file describes it (see Config/plans/FORMAT.md).
///
/// Decoding refuses unknown keys and wrong types; `PlanDocument.load(from:)` also checks that
/// every reference (posts, service areas, objectives, parents, periods) resolves, and names
/// the offending field in its error.
public struct PlanDocument: Codable, Sendable, Equatable {
    public var format: Int
    public var notes: [String]
    public var plan: Plan
    public var posts: [Post]
    public var serviceAreas: [ServiceArea]
    public var objectives: [Objective]
    public var indicators: [Indicator]
    public var tasks: [KeyTask]
    public var strategies: [Strategy]
    public var strategicRisks: [StrategicRisk]
    public var keyStrategicRisks: [KeyStrategicRisk]
    public var budget: [BudgetLine]

    public struct Plan: Codable, Sendable, Equatable {
        public var code: String
        public var title: String
        public var council: String
        public var priority: String
        public var priorityStatement: String
        public var vision: String
        public var values: [Value]
        public var firstYear: Period
        public var lastYear: Period
        public var introduction: String
        /// Which revision of the plan this file is: each annual revision numbers the next
        /// (optional; 1 when left out).
        public var revision: Int?
        /// `revision`, or 1.
        public var revisionNumber: Int { revision ?? 1 }
    }

    public struct Value: Codable, Sendable, Equatable {
        public var name: String
        public var description: String
    }

    public struct Post: Codable, Sendable, Equatable {
        public var name: String
        public var aliases: [String]
    }

    public struct ServiceArea: Codable, Sendable, Equatable {
        public var name: String
        public var head: String?
    }

    public struct Objective: Codable, Sendable, Equatable {
        public var code: String
        public var title: String
        public var serviceObjectives: [ServiceObjective]
    }

    public struct ServiceObjective: Codable, Sendable, Equatable {
        public var serviceArea: String
        public var text: String
    }

    public struct Indicator: Codable, Sendable, Equatable {
        public var code: String
        public var aliases: [String]
        public var title: String
        public var category: IndicatorCategory
        public var objective: String?
        public var serviceArea: String
        public var unit: IndicatorUnit
        public var polarity: Polarity
        public var frequency: Frequency
        public var ownerPost: String
        public var ownerFromDocument: Bool
        public var tolerance: Double?
        public var parent: String?
        public var isNew: Bool
        public var comments: String
        public var actuals: [String: Double?]
        public var targets: [String: Double?]
    }

    public struct KeyTask: Codable, Sendable, Equatable {
        public var code: String
        public var aliases: [String]
        public var objective: String
        public var action: String
        public var outcome: String
        public var partners: [String]
        public var responsiblePosts: [String]
        public var targetDate: CalendarDate?
        public var targetText: String
        public var budgetComment: String
        public var isNew: Bool
        public var risks: [TaskRisk]
    }

    public struct TaskRisk: Codable, Sendable, Equatable {
        public var threat: String
        public var strategicRisks: [Int]
        public var mitigation: String
        public init(threat: String, strategicRisks: [Int], mitigation: String) {
            self.threat = threat; self.strategicRisks = strategicRisks; self.mitigation = mitigation
        }
    }

    public struct Strategy: Codable, Sendable, Equatable {
        public var name: String
        public var purpose: String
        public var renewalText: String
        public var renewalDate: CalendarDate?
        public var responsible: [String]
        public init(name: String, purpose: String, renewalText: String, renewalDate: CalendarDate?, responsible: [String]) {
            self.name = name; self.purpose = purpose; self.renewalText = renewalText
            self.renewalDate = renewalDate; self.responsible = responsible
        }
    }

    public struct StrategicRisk: Codable, Sendable, Equatable {
        public var number: Int
        public var title: String?
    }

    public struct KeyStrategicRisk: Codable, Sendable, Equatable {
        public var risk: String
        public var mitigation: String
        public init(risk: String, mitigation: String) { self.risk = risk; self.mitigation = mitigation }
    }

    public struct BudgetLine: Codable, Sendable, Equatable {
        public var description: String
        public var kind: BudgetKind
        public var amounts: [String: Double?]
        public var comment: String
        public init(description: String, kind: BudgetKind, amounts: [String: Double?], comment: String) {
            self.description = description; self.kind = kind; self.amounts = amounts; self.comment = comment
        }
    }
}

/// Why a plan file was refused: the field's path in the file and what is wrong with it.
public struct PlanFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is, e.g. `indicators[12] (ComS_012a).targets.2025/26`.
    public var path: String
    public var problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { path.isEmpty ? problem : "\(path): \(problem)" }
}

extension PlanDocument {
    /// The format version this build reads.
    public static let supportedFormat = 1

    /// The years a plan may start and end in (the start years of 2000/01 to 2099/00), and
    /// the most years it may span: a plan outside them is a typo, and would make every
    /// reader walk centuries of periods.
    public static let supportedYears = 2000...2099
    public static let longestPlanYears = 20

    /// Decodes and validates a plan file's bytes.
    public static func load(from data: Data) throws(PlanFileError) -> PlanDocument {
        let document: PlanDocument
        do {
            document = try StrictJSON.decode(PlanDocument.self, from: data)
        } catch let error as DecodingError {
            throw PlanFileError(decoding: error)
        } catch {
            throw PlanFileError(path: "", problem: "not valid JSON: \(error)")
        }
        try document.validate()
        return document
    }

    /// Checks every rule the decoder cannot: formats, uniqueness and references.
    public func validate() throws(PlanFileError) {
        func fail(_ path: String, _ problem: String) -> PlanFileError { PlanFileError(path: path, problem: problem) }
        func requireText(_ text: String, _ path: String) throws(PlanFileError) {
            if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw fail(path, "must not be empty") }
        }
        // Names are indexed (posts, service areas, strategies): bounded as a request's are.
        func requireName(_ text: String, _ path: String) throws(PlanFileError) {
            try requireText(text, path)
            if let problem = InputBounds.problem(text: text, maxLength: InputBounds.nameLength) { throw fail(path, problem) }
        }
        func requireDate(_ date: CalendarDate?, _ path: String) throws(PlanFileError) {
            if let date, let problem = InputBounds.problem(date: date) { throw fail(path, problem) }
        }

        guard format == Self.supportedFormat else {
            throw fail("format", "is \(format); this bbcs reads format \(Self.supportedFormat)")
        }
        let codeChars = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.&")
        func requireCode(_ code: String, _ path: String) throws(PlanFileError) {
            guard !code.isEmpty, code.count <= 32, code.unicodeScalars.allSatisfy(codeChars.contains) else {
                throw fail(path, "\"\(code)\" is not a code (1 to 32 letters, digits, '_', '-', '.' or '&')")
            }
        }
        // Aliases are the document's other spellings, spaces and all.
        func requireAlias(_ alias: String, _ path: String) throws(PlanFileError) {
            guard !alias.trimmingCharacters(in: .whitespaces).isEmpty, alias.unicodeScalars.count <= 64 else {
                throw fail(path, "must be 1 to 64 characters")
            }
        }
        try requireCode(plan.code, "plan.code")
        try requireText(plan.title, "plan.title")
        if let revision = plan.revision, !(1...9999).contains(revision) { throw fail("plan.revision", "must be a whole number from 1 to 9999") }
        guard plan.firstYear.quarter == nil else { throw fail("plan.firstYear", "must be a year like \"2025/26\"") }
        guard plan.lastYear.quarter == nil else { throw fail("plan.lastYear", "must be a year like \"2025/26\"") }
        guard plan.firstYear <= plan.lastYear else { throw fail("plan.lastYear", "comes before plan.firstYear") }
        let years = "must be a year from \(Period(startYear: Self.supportedYears.lowerBound)) to \(Period(startYear: Self.supportedYears.upperBound))"
        guard Self.supportedYears.contains(plan.firstYear.startYear) else { throw fail("plan.firstYear", years) }
        guard Self.supportedYears.contains(plan.lastYear.startYear) else { throw fail("plan.lastYear", years) }
        guard plan.lastYear.startYear - plan.firstYear.startYear < Self.longestPlanYears else {
            throw fail("plan.lastYear", "makes the plan run \(plan.lastYear.startYear - plan.firstYear.startYear + 1) years; at most \(Self.longestPlanYears)")
        }

        // Posts: names and aliases together must be unique, so every spelling maps to one post.
        var postNames: [String: String] = [:]
        for (i, post) in posts.enumerated() {
            try requireName(post.name, "posts[\(i)].name")
            for (j, spelling) in ([post.name] + post.aliases).enumerated() {
                let path = j == 0 ? "posts[\(i)].name" : "posts[\(i)].aliases[\(j - 1)]"
                if let other = postNames[spelling] { throw fail(path, "\"\(spelling)\" already names post \"\(other)\"") }
                postNames[spelling] = post.name
            }
        }
        func requirePost(_ name: String, _ path: String) throws(PlanFileError) {
            guard postNames[name] != nil else { throw fail(path, "\"\(name)\" is not one of the file's posts") }
        }

        var areaNames = Set<String>()
        for (i, area) in serviceAreas.enumerated() {
            try requireName(area.name, "serviceAreas[\(i)].name")
            guard areaNames.insert(area.name).inserted else { throw fail("serviceAreas[\(i)].name", "\"\(area.name)\" appears twice") }
            if let head = area.head { try requirePost(head, "serviceAreas[\(i)].head") }
        }

        var objectiveCodes = Set<String>()
        for (i, objective) in objectives.enumerated() {
            try requireCode(objective.code, "objectives[\(i)].code")
            guard objectiveCodes.insert(objective.code).inserted else { throw fail("objectives[\(i)].code", "\"\(objective.code)\" appears twice") }
            try requireText(objective.title, "objectives[\(i)].title")
            for (j, so) in objective.serviceObjectives.enumerated() {
                guard areaNames.contains(so.serviceArea) else {
                    throw fail("objectives[\(i)].serviceObjectives[\(j)].serviceArea", "\"\(so.serviceArea)\" is not one of the file's serviceAreas")
                }
                try requireText(so.text, "objectives[\(i)].serviceObjectives[\(j)].text")
            }
        }

        var indicatorCodes: [String: String] = [:]
        for (i, indicator) in indicators.enumerated() {
            for (j, spelling) in ([indicator.code] + indicator.aliases).enumerated() {
                let path = j == 0 ? "indicators[\(i)].code" : "indicators[\(i)].aliases[\(j - 1)]"
                if j == 0 { try requireCode(spelling, path) } else { try requireAlias(spelling, path) }
                if let other = indicatorCodes[spelling] { throw fail(path, "\"\(spelling)\" already names indicator \(other)") }
                indicatorCodes[spelling] = indicator.code
            }
        }
        for (i, indicator) in indicators.enumerated() {
            let at = "indicators[\(i)] (\(indicator.code))"
            try requireText(indicator.title, "\(at).title")
            if let objective = indicator.objective, !objectiveCodes.contains(objective) {
                throw fail("\(at).objective", "\"\(objective)\" is not one of the file's objectives")
            }
            guard areaNames.contains(indicator.serviceArea) else {
                throw fail("\(at).serviceArea", "\"\(indicator.serviceArea)\" is not one of the file's serviceAreas")
            }
            try requirePost(indicator.ownerPost, "\(at).ownerPost")
            if let tolerance = indicator.tolerance {
                do { try FigureRules.checkTolerance(tolerance) } catch { throw fail("\(at).tolerance", error.message) }
            }
            if let parent = indicator.parent {
                guard let canonical = indicatorCodes[parent], canonical != indicator.code else {
                    throw fail("\(at).parent", "\"\(parent)\" is not another indicator of the file")
                }
            }
            for (field, values) in [("actuals", indicator.actuals), ("targets", indicator.targets)] {
                for (key, value) in values {
                    guard let period = Period(key), period.quarter == nil else {
                        throw fail("\(at).\(field).\(key)", "is not a financial year like \"2025/26\"")
                    }
                    guard let value else { continue }
                    // The bounds a figure or target set over the socket meets.
                    do { try FigureRules.checkValue(value, unit: indicator.unit, param: String(field.dropLast())) } catch {
                        throw fail("\(at).\(field).\(key)", error.message)
                    }
                }
            }
        }
        // A parent chain must end: no indicator may be its own ancestor.
        let parentOf = Dictionary(uniqueKeysWithValues: indicators.map { ($0.code, $0.parent.flatMap { indicatorCodes[$0] }) })
        for (i, indicator) in indicators.enumerated() {
            var seen: Set<String> = [indicator.code]
            var next = parentOf[indicator.code] ?? nil
            while let code = next {
                guard seen.insert(code).inserted else { throw fail("indicators[\(i)] (\(indicator.code)).parent", "parents form a loop") }
                next = parentOf[code] ?? nil
            }
        }

        var taskCodes = Set<String>()
        for (i, task) in tasks.enumerated() {
            let at = "tasks[\(i)] (\(task.code))"
            for (j, spelling) in ([task.code] + task.aliases).enumerated() {
                let path = j == 0 ? "tasks[\(i)].code" : "\(at).aliases[\(j - 1)]"
                try requireAlias(spelling, path)
                guard taskCodes.insert(spelling).inserted else { throw fail(path, "\"\(spelling)\" names two tasks") }
            }
            try requireCode(task.code, "tasks[\(i)].code")
            guard objectiveCodes.contains(task.objective) else { throw fail("\(at).objective", "\"\(task.objective)\" is not one of the file's objectives") }
            try requireDate(task.targetDate, "\(at).targetDate")
            try requireText(task.action, "\(at).action")
            guard !task.responsiblePosts.isEmpty else { throw fail("\(at).responsiblePosts", "must name at least one post") }
            for (j, post) in task.responsiblePosts.enumerated() { try requirePost(post, "\(at).responsiblePosts[\(j)]") }
            for (j, risk) in task.risks.enumerated() {
                try requireText(risk.threat, "\(at).risks[\(j)].threat")
                for (k, number) in risk.strategicRisks.enumerated() where !strategicRisks.contains(where: { $0.number == number }) {
                    throw fail("\(at).risks[\(j)].strategicRisks[\(k)]", "\(number) is not in strategicRisks")
                }
            }
        }

        var strategyNames = Set<String>()
        for (i, strategy) in strategies.enumerated() {
            try requireName(strategy.name, "strategies[\(i)].name")
            try requireDate(strategy.renewalDate, "strategies[\(i)].renewalDate")
            guard strategyNames.insert(strategy.name).inserted else { throw fail("strategies[\(i)].name", "\"\(strategy.name)\" appears twice") }
            try requireText(strategy.renewalText, "strategies[\(i)].renewalText")
            guard !strategy.responsible.isEmpty else { throw fail("strategies[\(i)].responsible", "must name at least one post or body") }
            for (j, name) in strategy.responsible.enumerated() { try requireName(name, "strategies[\(i)].responsible[\(j)]") }
        }

        var riskNumbers = Set<Int>()
        for (i, risk) in strategicRisks.enumerated() {
            guard risk.number > 0 else { throw fail("strategicRisks[\(i)].number", "must be a positive number") }
            guard riskNumbers.insert(risk.number).inserted else { throw fail("strategicRisks[\(i)].number", "\(risk.number) appears twice") }
        }
        for (i, risk) in keyStrategicRisks.enumerated() { try requireText(risk.risk, "keyStrategicRisks[\(i)].risk") }

        for (i, line) in budget.enumerated() {
            try requireText(line.description, "budget[\(i)].description")
            for (key, value) in line.amounts {
                guard let period = Period(key), period.quarter == nil else {
                    throw fail("budget[\(i)].amounts.\(key)", "is not a financial year like \"2025/26\"")
                }
                // Pounds, savings negative: bounded like a count, so every amount prints exactly.
                if let value, !(abs(value) <= FigureRules.largestCount) {
                    throw fail("budget[\(i)].amounts.\(key)", "must be a number from -\(FigureRules.format(FigureRules.largestCount)) to \(FigureRules.format(FigureRules.largestCount))")
                }
            }
        }
    }

    /// Maps every spelling of a post (name or alias) to its canonical name.
    public var canonicalPostNames: [String: String] {
        var map: [String: String] = [:]
        for post in posts { for spelling in [post.name] + post.aliases { map[spelling] = post.name } }
        return map
    }
}

extension PlanFileError {
    init(decoding error: DecodingError) {
        func render(_ path: [CodingKey]) -> String {
            var text = ""
            for key in path {
                if let index = key.intValue { text += "[\(index)]" } else { text += text.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return text
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(path: render(context.codingPath + [key]), problem: "is missing")
        case .typeMismatch(let type, let context):
            self.init(path: render(context.codingPath), problem: "has the wrong type (expected \(StrictJSON.describe(type)))")
        case .valueNotFound(let type, let context):
            self.init(path: render(context.codingPath), problem: "is null (expected \(StrictJSON.describe(type)))")
        case .dataCorrupted(let context):
            self.init(path: render(context.codingPath), problem: context.debugDescription)
        @unknown default:
            self.init(path: "", problem: "\(error)")
        }
    }
}


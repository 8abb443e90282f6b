import BBCSCore
import BBCSPostgres
import Logging
import NIOConcurrencyHelpers

/// The plan as this daemon holds it: indicators with their targets and current figures, key
/// tasks, and who holds which post, loaded at start in one snapshot and kept current by the
/// change sequence (`apply`). Reads are a copy of a value under a lock, never a wait on the
/// database; the database stays the authority (every write confirms the caller in SQL).
public final class PlanMemory: Sendable {
    /// What memory holds at one moment; a read takes a copy (the arrays are shared, not copied).
    struct Contents: Sendable {
        /// The newest change this memory has applied (or was loaded as of).
        var seq: Int64
        /// In the plan's order.
        var indicators: Coded<HeldIndicator>
        /// In the plan's order.
        var tasks: Coded<TaskState>
        var directory: DirectoryState
        var plans: PlanSet
        var cycle: CycleState

        init(_ snapshot: PlanSnapshot) {
            seq = snapshot.seq
            directory = snapshot.directory
            plans = snapshot.plans
            cycle = snapshot.cycle
            indicators = Coded(snapshot.indicators.map(HeldIndicator.init))
            tasks = Coded(snapshot.tasks)
        }

        func indicator(_ code: String) throws -> HeldIndicator { try find(code, in: indicators, kind: "indicator") }

        func task(_ code: String) throws -> TaskState { try find(code, in: tasks, kind: "task") }

        /// The object `text` names: its code (or failing that an alias), in the plan `text`
        /// is qualified with if any; a code several plans use is refused, naming each.
        private func find<Element>(_ text: String, in coded: Coded<Element>, kind: String) throws -> Element {
            let wanted = PlanQualifiedCode(text)
            var planID: Int?
            if let plan = wanted.plan {
                guard let id = plans.ids[plan.lowercased()] else { throw StoreError.notFound(kind: kind, key: text) }
                planID = id
            }
            let found = coded.matching(wanted.code, planID: planID)
            guard let first = found.first else { throw StoreError.notFound(kind: kind, key: text) }
            guard found.count == 1 else {
                throw StoreError.ambiguous(kind: kind, code: wanted.code, plans: found.compactMap { plans.plan(id: $0.planID)?.code })
            }
            return first
        }

        /// The id of the post with this name or alias, ignoring case.
        func postID(_ name: String) throws -> Int {
            guard let post = directory.post(named: name) else { throw StoreError.notFound(kind: "post", key: name) }
            return post.id
        }
    }

    /// Objects in the plans' order, found by id and by code or alias ignoring case.
    struct Coded<Element: PlanObject>: Sendable {
        private(set) var all: [Element]
        private var slots: [Int: Int] = [:]
        /// Slots by code and by alias, lower-cased: several plans may use one code.
        private var codes: [String: [Int]] = [:]
        private var aliases: [String: [Int]] = [:]

        init(_ all: [Element]) {
            self.all = all
            for (slot, element) in all.enumerated() {
                slots[element.id] = slot
                codes[element.code.lowercased(), default: []].append(slot)
                for alias in Set(element.aliases.map { $0.lowercased() }) { aliases[alias, default: []].append(slot) }
            }
        }

        /// The objects whose code is `code` (of the plan with `planID`, when given), or
        /// failing any, whose alias it is: a code wins over another object's alias, as the
        /// database's lookup has it.
        func matching(_ code: String, planID: Int?) -> [Element] {
            func of(_ slots: [Int]?) -> [Element] { (slots ?? []).map { all[$0] }.filter { planID == nil || $0.planID == planID } }
            let byCode = of(codes[code.lowercased()])
            return byCode.isEmpty ? of(aliases[code.lowercased()]) : byCode
        }

        /// These objects read again in place of the ones held; the ones `asked` that were
        /// not found are gone.
        func merging(_ fresh: [Element], asked: Set<Int>) -> Coded {
            let byID = Dictionary(fresh.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            var merged = all.compactMap { held in asked.contains(held.id) ? byID[held.id] : held }
            let added = fresh.filter { slots[$0.id] == nil }
            if !added.isEmpty {
                merged += added
                merged.sort { ($0.planID, $0.position) < ($1.planID, $1.position) }
            }
            return Coded(merged)
        }
    }

    /// One indicator with its reading worked out when it was (re)loaded, so `indicator.show`
    /// and `indicator.list` do no work but a lookup.
    struct HeldIndicator: PlanObject {
        let state: IndicatorState
        let detail: IndicatorDetail
        init(_ state: IndicatorState) {
            self.state = state
            detail = state.detail
        }
        var id: Int { state.id }
        var planID: Int { state.planID }
        var position: Int { state.position }
        var code: String { state.code }
        var aliases: [String] { state.aliases }
    }

    /// What a batch of changes asks to read again.
    struct Wanted: Sendable, Equatable {
        var indicatorIDs: Set<Int> = []
        var taskIDs: Set<Int> = []
        var directory = false
        /// The reporting cycle: rounds, published reports, risk reviews.
        var cycle = false
        var everything = false

        var isEmpty: Bool { self == Wanted() }

        init(indicatorIDs: Set<Int> = [], taskIDs: Set<Int> = [], directory: Bool = false, cycle: Bool = false, everything: Bool = false) {
            self.indicatorIDs = indicatorIDs; self.taskIDs = taskIDs; self.directory = directory; self.cycle = cycle
            self.everything = everything
        }

        init(_ changes: [Change]) {
            for change in changes {
                switch change.kind {
                case .figureSubmitted, .figureCorrected, .figureValidated, .targetSet:
                    if let id = change.indicatorID { indicatorIDs.insert(id) }
                case .taskUpdated, .taskRescheduled:
                    if let id = change.taskID { taskIDs.insert(id) }
                case .directory: directory = true
                case .plan: everything = true
                case .roundOpened, .roundClosed, .reportPublished, .riskReviewed: cycle = true
                case .reminderCreated: break
                }
            }
        }

        mutating func formUnion(_ other: Wanted) {
            indicatorIDs.formUnion(other.indicatorIDs)
            taskIDs.formUnion(other.taskIDs)
            directory = directory || other.directory
            cycle = cycle || other.cycle
            everything = everything || other.everything
        }
    }

    private let pool: PGPool
    private let logger: Logger
    private let contents: NIOLockedValueBox<Contents>
    /// What a reload that failed still owes; the next batch reads it again with its own.
    private let pending = NIOLockedValueBox(Wanted())
    /// One reload at a time, so an older read can never be swapped in over a newer one.
    private let reloads = Turnstile()
    /// A retry of what failed is under way.
    private let retrying = NIOLockedValueBox(false)

    /// Memory holding `snapshot` (tests build an empty one this way).
    init(pool: PGPool, logger: Logger, snapshot: PlanSnapshot) {
        self.pool = pool
        self.logger = logger
        contents = NIOLockedValueBox(Contents(snapshot))
    }

    /// Reads everything in one snapshot.
    public static func load(pool: PGPool, logger: Logger) async throws -> PlanMemory {
        let snapshot = try await pool.withConnection { db in try PlanStateLoader.snapshot(db) }
        logger.info("plan loaded into memory", metadata: ["seq": "\(snapshot.seq)", "indicators": "\(snapshot.indicators.count)",
                                                          "tasks": "\(snapshot.tasks.count)", "users": "\(snapshot.directory.users.count)"])
        return PlanMemory(pool: pool, logger: logger, snapshot: snapshot)
    }

    // MARK: reads

    private var current: Contents { contents.withLockedValue { $0 } }

    /// The newest change applied.
    public var seq: Int64 { current.seq }

    /// The indicator with this code or alias, ignoring case; `StoreError.notFound` otherwise.
    public func indicator(_ code: String) throws -> IndicatorState { try current.indicator(code).state }

    /// Every indicator of every plan, retired ones too, in the plans' order.
    public var indicators: [IndicatorState] { current.indicators.all.map(\.state) }

    /// The task with this code or alias, ignoring case; `StoreError.notFound` otherwise.
    public func task(_ code: String) throws -> TaskState { try current.task(code) }

    /// Every task of every plan, retired ones too, in the plans' order.
    public var tasks: [TaskState] { current.tasks.all }

    /// Every plan's structure: what objective.list, strategy.list, risk.list, plan.show and
    /// plan.history answer from.
    public var plans: PlanSet { current.plans }

    /// What the report of the plan `code` chooses (`PlanSet.choose`) is built from, all of one moment.
    func reportInputs(plan code: String?, default fallback: String?) throws -> ReportInputs {
        let c = current
        return ReportInputs(c, plan: try c.plans.choose(code, default: fallback), indicators: c.indicators.all.map(\.state))
    }

    /// What the corporate report is built from: every plan's report inputs, of one moment.
    func corporateInputs() -> [ReportInputs] {
        let c = current
        let indicators = c.indicators.all.map(\.state)
        return c.plans.plans.map { ReportInputs(c, plan: $0, indicators: indicators) }
    }

    public var directory: DirectoryState { current.directory }

    /// The reporting cycle: rounds, published reports (without their documents), each risk's latest review.
    public var cycle: CycleState { current.cycle }

    /// The caller as memory knows them on `today`. A write confirms this in SQL.
    public func principal(login: String, uid: UInt32, pid: Int32, today: CalendarDate) -> Principal {
        current.directory.principal(login: login, uid: uid, pid: pid, today: today)
    }

    /// `indicator.show`: the indicator with this code or alias, ignoring case.
    public func indicatorDetail(_ code: String) throws -> IndicatorDetail { try current.indicator(code).detail }

    /// `indicator.list`: the indicators of `plan` matching `filter`, in the plan's order,
    /// retired ones only when `all`. A filter naming an objective, service area or post that
    /// does not exist is `notFound`.
    public func indicatorList(_ filter: IndicatorFilter, plan: PlanOutline, all: Bool = false) throws -> [IndicatorSummary] {
        let c = current
        if let objective = filter.objective, !plan.objectives.contains(objective) {
            throw StoreError.notFound(kind: "objective", key: objective)
        }
        if let area = filter.serviceArea, !plan.serviceAreas.contains(area) { throw StoreError.notFound(kind: "service area", key: area) }
        let postID = try filter.ownerPost.map { try c.postID($0) }
        return c.indicators.all.filter { held in
            let i = held.state
            return i.planID == plan.id && (all || !i.isRetired)
                && (filter.objective == nil || i.objective == filter.objective) && (filter.category.map { $0 == i.category } ?? true)
                && (filter.serviceArea.map { $0 == i.serviceArea } ?? true) && (postID.map { $0 == i.ownerPostID } ?? true)
        }.map(\.detail.indicator)
    }

    /// `task.list`: tasks of `plan` matching `filter`, in the plan's order, retired ones only
    /// when `all`; "overdue" and "due within" are judged on `today`.
    public func taskList(_ filter: TaskFilter, today: CalendarDate, plan: PlanOutline, all: Bool = false) throws -> [TaskSummary] {
        let c = current
        let postID = try filter.post.map { try c.postID($0) }
        let anyOf = try filter.anyOfPosts.map { Set(try $0.map { try c.postID($0) }) }
        let withinUntil = filter.dueWithinDays.map { today.adding(days: $0) }
        return c.tasks.all.filter { t in
            let date = t.targetDate
            func dated(_ test: (CalendarDate) -> Bool) -> Bool { date.map(test) ?? false }
            return t.planID == plan.id && (all || !t.isRetired)
                && (postID.map { t.responsiblePostIDs.contains($0) } ?? true)
                && (filter.status.map { $0 == t.status } ?? true)
                && (filter.dueBefore.map { bound in dated { $0 <= bound } } ?? true)
                && (filter.dueAfter.map { bound in dated { $0 >= bound } } ?? true)
                && (!filter.overdue || (dated { $0 < today } && !t.status.isClosed))
                && (withinUntil.map { until in dated { $0 >= today && $0 <= until } && !t.status.isClosed } ?? true)
                && (anyOf.map { posts in t.responsiblePostIDs.contains { posts.contains($0) } } ?? true)
        }.map { $0.summary(today: today) }
    }

    /// `task.show`.
    public func taskDetail(_ code: String, today: CalendarDate) throws -> TaskDetail { try current.task(code).detail(today: today) }

    /// `figure.due`: figures owed by `posts` (every post's when nil) for periods begun by
    /// `today`, without a figure, soonest due first.
    public func due(posts: [String]?, today: CalendarDate, graceDays: Int) throws -> [DueFigure] {
        let c = current
        let postIDs = try posts.map { Set(try $0.map { try c.postID($0) }) }
        var owed: [DueFigure] = []
        for held in c.indicators.all where !held.state.isRetired && postIDs.map({ $0.contains(held.state.ownerPostID) }) ?? true {
            let state = held.state
            // An open round that wants this period's figure chases it by its own deadline too.
            let wanting = c.plans.plan(id: state.planID).map { plan in
                c.cycle.open(plan: plan.code).filter { $0.wants(state, planID: plan.id) }
            } ?? []
            owed += state.due(today: today, graceDays: graceDays).map { figure in
                var figure = figure
                if let round = wanting.first(where: { $0.reportedPeriod(state.frequency) == figure.period }) {
                    figure.roundDeadline = round.deadline
                    figure.meeting = round.meeting
                }
                return figure
            }
        }
        return owed.sorted { ($0.dueDate, $0.indicator) < ($1.dueDate, $1.indicator) }
    }

    // MARK: keeping current

    /// Reads again what `changes` name (one query set for the batch) and swaps it in: the
    /// indicators and tasks they name, the directory, or everything for `plan`. A reload that
    /// fails is logged and retried with the next batch; memory keeps its last whole state.
    public func apply(_ changes: [Change]) async {
        guard let newest = changes.map(\.seq).max() else { return }
        await reload(Wanted(changes))
        contents.withLockedValue { $0.seq = max($0.seq, newest) }
    }

    func reload(_ asked: Wanted) async {
        await reloads.run {
            var wanted = pending.withLockedValue { owed in
                defer { owed = Wanted() }
                return owed
            }
            wanted.formUnion(asked)
            guard !wanted.isEmpty else { return }
            do {
                if wanted.everything {
                    let snapshot = try await pool.withConnection { db in try PlanStateLoader.snapshot(db) }
                    contents.withLockedValue { held in
                        let seq = max(held.seq, snapshot.seq)
                        held = Contents(snapshot)
                        held.seq = seq
                    }
                } else {
                    let (indicators, tasks, directory, cycle) = (Array(wanted.indicatorIDs), Array(wanted.taskIDs), wanted.directory, wanted.cycle)
                    let fresh = try await pool.withConnection { db in
                        try PlanStateLoader.reload(indicatorIDs: indicators, taskIDs: tasks, directory: directory, cycle: cycle, db)
                    }
                    contents.withLockedValue { held in
                        if let found = fresh.indicators {
                            held.indicators = held.indicators.merging(found.map(HeldIndicator.init), asked: wanted.indicatorIDs)
                        }
                        if let found = fresh.tasks { held.tasks = held.tasks.merging(found, asked: wanted.taskIDs) }
                        if let found = fresh.directory { held.directory = found }
                        if let found = fresh.cycle { held.cycle = found }
                    }
                }
            } catch {
                pending.withLockedValue { $0.formUnion(wanted) }
                retryLater()
                logger.error("memory not reloaded; read again shortly", metadata: [
                    "error": "\(error)", "indicators": "\(wanted.indicatorIDs.count)", "tasks": "\(wanted.taskIDs.count)",
                    "directory": "\(wanted.directory)", "everything": "\(wanted.everything)",
                ])
            }
        }
    }
}

extension PlanMemory {
    /// Reads what failed again, backing off, until it is read: memory never stays behind
    /// waiting for a change that may not come.
    private func retryLater() {
        guard retrying.withLockedValue({ r in defer { r = true }; return !r }) else { return }
        // Not under the deadline of the request whose change it may be reading.
        Task { [self] in await RequestDeadline.$current.withValue(nil) { await retryUntilRead() } }
    }

    private func retryUntilRead() async {
        var pause = Duration.milliseconds(200)
        while !pending.withLockedValue({ $0.isEmpty }) {
            try? await Task.sleep(for: pause)
            await reload(Wanted())
            pause = min(pause * 2, .seconds(5))
        }
        retrying.withLockedValue { $0 = false }
    }
}

/// Everything a report is assembled from, all of one moment of memory.
struct ReportInputs: Sendable {
    let seq: Int64
    let plan: ReportedPlan
    let indicators: [IndicatorState]
    let tasks: [TaskState]
    let cycle: CycleState
    let register: RiskRegister

    /// `plan`'s inputs from one moment of memory.
    fileprivate init(_ c: PlanMemory.Contents, plan: PlanOutline, indicators: [IndicatorState]) {
        seq = c.seq; self.plan = plan.reported; self.indicators = indicators; tasks = c.tasks.all; cycle = c.cycle; register = plan.risks
    }

    /// The report of `period` (of one objective, or the whole plan) as of `today`.
    func report(period: Period, objective: String?, today: CalendarDate, graceDays: Int) throws -> PerformanceReport {
        try PerformanceReport.assemble(plan: plan, indicators: indicators, tasks: tasks, period: period, objective: objective,
                                              today: today, graceDays: graceDays, cycle: cycle, register: register)
    }
}

/// Lets one body run at a time, the others waiting their turn in order.
final class Turnstile: Sendable {
    private let state = NIOLockedValueBox<(busy: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func run(_ body: () async -> Void) async {
        await withCheckedContinuation { (turn: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { state -> Bool in
                if !state.busy {
                    state.busy = true
                    return true
                }
                state.waiters.append(turn)
                return false
            }
            if now { turn.resume() }
        }
        await body()
        let next = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.busy = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// What memory finds by code: an indicator or a task.
protocol PlanObject: Sendable {
    var id: Int { get }
    var planID: Int { get }
    var position: Int { get }
    var code: String { get }
    var aliases: [String] { get }
}

extension TaskState: PlanObject {}

/// Opening and closing reporting rounds: the rules, decided from the caller, the plan and the
/// rounds as they stand. Pure; the store writes the decision.
public enum RoundUseCases {
    /// A round to open, with its audit record and change detail.
    public struct Opening: Sendable, Equatable {
        public var planID: Int
        public var round: ReportingRound
        public var audit: AuditRecord
        public var detail: JSONValue
    }

    /// A round to close.
    public struct Closing: Sendable, Equatable {
        public var round: ReportingRound
        public var audit: AuditRecord
        public var detail: JSONValue
    }

    /// An administrator opens the round of `plan` for `period`, to report to `meeting` with
    /// figures wanted by `deadline`: one round per period, a deadline after the period ends.
    public static func open(_ principal: Principal, plan: ReportedPlan, cycle: CycleState, period: Period, deadline: CalendarDate,
                            meeting: String, at time: ChangeTime) throws -> Opening {
        if let denial = Policy.check(.admin, principal) { throw denial }
        try FigureRules.checkWithinPlan(period, firstYear: plan.firstYear, lastYear: plan.lastYear)
        let meeting = meeting.trimmingCharacters(in: .whitespaces)
        try requireText(meeting, param: "meeting", "a round needs the meeting it reports to, e.g. \"Cabinet 2025-12-02\"")
        guard deadline > period.end else {
            throw StoreError.invalid(param: "deadline", "the deadline \(deadline) is not after \(period) ends (\(period.end)): its figures cannot be in by then")
        }
        if let known = cycle.round(plan: plan.code, period: period) {
            throw StoreError.conflict("the round for \(period) was opened already by \(known.openedBy) (deadline \(known.deadline), \(known.meeting))",
                                      hint: Hint("round.show", ["period": period.description]))
        }
        let round = ReportingRound(id: 0, plan: plan.code, period: period, deadline: deadline, meeting: meeting,
                                   openedBy: principal.login, openedAt: time.recordedText)
        return Opening(planID: plan.id, round: round,
                       audit: AuditRecord(object: "round \(period)", after: JSONValue(encoding: round),
                                          message: "round \(period) opened: deadline \(deadline), \(meeting)"),
                       detail: detail(round, "opened"))
    }

    /// An administrator closes an open round; with figures missing only by `force` with a reason.
    public static func close(_ principal: Principal, progress: RoundProgress, force: Bool, reason: String?,
                             at time: ChangeTime) throws -> Closing {
        if let denial = Policy.check(.admin, principal) { throw denial }
        let round = progress.round, missing = progress.missing
        guard round.isOpen else {
            throw StoreError.conflict("the round for \(round.period) was closed already by \(round.closedBy ?? "-") at \(round.closedAt ?? "-")",
                                      hint: nil)
        }
        let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        if force {
            try requireText(reason ?? "", param: "reason", "closing a round by force needs a reason")
        } else if !missing.isEmpty {
            let named = missing.prefix(5).map { "\($0.indicator) (\($0.ownerPost))" }.joined(separator: ", ")
            throw StoreError.conflict("""
                \(missing.count) figure\(missing.count == 1 ? " is" : "s are") still missing from the round for \(round.period): \
                \(named)\(missing.count > 5 ? ", ..." : ""); close it with force and a reason to go ahead without them
                """, hint: Hint("round.show", ["period": round.period.description]))
        }
        var closed = round
        closed.closedBy = principal.login
        closed.closedAt = time.recordedText
        closed.forced = force && !missing.isEmpty
        closed.closeReason = force ? reason : nil
        return Closing(round: closed,
                       audit: AuditRecord(object: "round \(round.period)", before: JSONValue(encoding: round), after: JSONValue(encoding: closed),
                                          message: "round \(round.period) closed" + (closed.forced ? " with \(missing.count) figures missing: \(reason ?? "")" : "")),
                       detail: detail(closed, "closed"))
    }

    private static func detail(_ round: ReportingRound, _ event: String) -> JSONValue {
        .object(["plan": .string(round.plan), "period": .string(round.period.description), "deadline": .string(round.deadline.description),
                 "meeting": .string(round.meeting), "event": .string(event)])
    }
}

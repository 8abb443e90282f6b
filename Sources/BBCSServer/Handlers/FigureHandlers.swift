import BBCSCore
import BBCSProtocol

extension MethodTable {
    mutating func registerFigureHandlers(_ stores: Stores) {
        let store = stores.figures
        register(FigureSubmitRequest.self) { r, context in
            let graceDays = stores.figureGraceDays()
            return try await stores.figureChange(r.code, period: r.period, context) { indicator, principal in
                try FigureUseCases.submit(principal, indicator, period: r.period, value: r.value, note: r.note,
                                          provisional: r.provisional ?? false, forecast: r.forecast, graceDays: graceDays,
                                          at: context.actor.changeTime)
            }
        }
        register(FigureCorrectRequest.self) { r, context in
            try await stores.figureChange(r.code, period: r.period, context) { indicator, principal in
                try FigureUseCases.correct(principal, indicator, period: r.period, value: r.value, reason: r.reason, revision: r.revision,
                                           note: r.note, provisional: r.provisional, forecast: r.forecast, at: context.actor.changeTime)
            }
        }
        register(FigureHistoryRequest.self) { r, _ in
            let (code, revisions) = try await store.history(code: r.code, period: r.period)
            return .init(indicator: code, revisions: revisions)
        }
        register(FigureValidateRequest.self) { r, context in
            try await stores.figureChange(r.code, period: r.period, context) { indicator, principal in
                try FigureUseCases.validate(principal, indicator, period: r.period, revision: r.revision, at: context.actor.changeTime)
            }
        }
        register(FigureImportRequest.self) { r, context in
            let rows = try FigureCSV.parse(r.content)
            let memory = stores.memory, graceDays = stores.figureGraceDays()
            let (decisions, lines) = try FigureImportUseCases.plan(context.principal, rows: rows, indicator: { try memory.indicator($0) },
                                                                   graceDays: graceDays, at: context.actor.changeTime)
            guard r.dryRun != true else { return .init(dryRun: true, lines: lines) }
            if let seq = try await store.writeAll(decisions, by: context.actor) {
                try? await stores.caughtUp(through: seq)
            }
            return .init(dryRun: false, lines: lines)
        }
        register(FigureDueRequest.self) { r, context in
            let posts: [String]?
            if r.all == true {
                posts = nil
            } else if let post = r.post {
                posts = [post]
            } else {
                posts = context.principal.posts.filter { $0 != Policy.adminPost }
            }
            let figures = try stores.memory.due(posts: posts, today: context.today, graceDays: stores.figureGraceDays())
            return .init(posts: posts ?? ["(every post)"], figures: figures)
        }
    }
}

extension Stores {
    /// A figure change decided by `decide` and written with its guards; the reply is the
    /// period's status with the change applied.
    fileprivate func figureChange(_ code: String, period: Period, _ context: CallContext,
                                  _ decide: (IndicatorState, Principal) throws -> FigureDecision?) async throws -> FigureResult {
        let figures = self.figures, actor = context.actor
        let (written, state) = try await decideAndWrite(
            context, state: try await indicatorState(code), reload: { try await figures.state(id: $0.id) }, decide: decide,
            write: { try await figures.write($0, by: actor) })
        let after = written?.after ?? state
        guard let status = after.statuses.first(where: { $0.period == period }) else {
            throw StoreError.notFound(kind: "figure of \(after.code) for", key: period.description)
        }
        return FigureResult(indicator: after.code, status: status)
    }
}

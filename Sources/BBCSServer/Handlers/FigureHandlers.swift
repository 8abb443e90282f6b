import BBCSCore
import BBCSProtocol

extension MethodTable {
    mutating func registerFigureHandlers(_ stores: Stores) {
        let store = stores.figures
        register(FigureSubmitRequest.self) { r, context in
            let (code, status) = try await store.submit(code: r.code, period: r.period, value: r.value, note: r.note, by: context.actor)
            await stores.memory.reload(indicators: [code]) // until ChangeStream
            return FigureResult(indicator: code, status: status)
        }
        register(FigureCorrectRequest.self) { r, context in
            let (code, status) = try await store.correct(code: r.code, period: r.period, value: r.value, reason: r.reason,
                                                         revision: r.revision, note: r.note, by: context.actor)
            await stores.memory.reload(indicators: [code]) // until ChangeStream
            return FigureResult(indicator: code, status: status)
        }
        register(FigureHistoryRequest.self) { r, _ in
            let (code, revisions) = try await store.history(code: r.code, period: r.period)
            return .init(indicator: code, revisions: revisions)
        }
        register(FigureValidateRequest.self) { r, context in
            let (code, status) = try await store.validate(code: r.code, period: r.period, revision: r.revision, by: context.actor)
            await stores.memory.reload(indicators: [code]) // until ChangeStream
            return FigureResult(indicator: code, status: status)
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

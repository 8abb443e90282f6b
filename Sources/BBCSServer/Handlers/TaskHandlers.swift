import BBCSCore
import BBCSPostgres
import BBCSProtocol

extension MethodTable {
    mutating func registerTaskHandlers(_ stores: Stores) {
        register(TaskListRequest.self) { request, context in
            var filter = TaskFilter(post: request.post, status: request.status, dueBefore: request.dueBefore, dueAfter: request.dueAfter)
            filter.overdue = request.overdue ?? false
            filter.dueWithinDays = request.dueWithin
            if request.mine == true { filter.anyOfPosts = context.principal.posts.filter { $0 != Policy.adminPost } }
            guard let plan = try stores.listedPlan(request.plan) else { return .init(tasks: []) }
            return .init(tasks: try stores.memory.taskList(filter, today: context.today, plan: plan, all: request.all ?? false))
        }
        register(TaskShowRequest.self) { request, context in try stores.memory.taskDetail(request.code, today: context.today) }
        register(TaskUpdateRequest.self) { r, context in
            try await stores.taskChange(r.code, context) { task, principal in
                try TaskUseCases.update(principal, task, status: r.status, progress: r.progress, note: r.note, at: context.actor.changeTime)
            }
        }
        register(TaskRescheduleRequest.self) { r, context in
            try await stores.taskChange(r.code, context) { task, principal in
                try TaskUseCases.reschedule(principal, task, to: r.date, reason: r.reason, at: context.actor.changeTime)
            }
        }
        register(TaskHistoryRequest.self) { r, context in
            let (task, changes) = try await stores.tasks.history(code: r.code, today: context.today)
            return .init(task: task, changes: changes, slippage: Slippage(changes))
        }
    }
}

extension Stores {
    /// A task change decided by `decide` and written with its guards; the reply is the task
    /// with the change applied.
    fileprivate func taskChange(_ code: String, _ context: CallContext,
                                _ decide: (TaskState, Principal) throws -> TaskDecision) async throws -> TaskSummary {
        let tasks = self.tasks, actor = context.actor
        let (written, state) = try await decideAndWrite(
            context, state: try await taskState(code), reload: { try await tasks.state(id: $0.id) }, decide: decide,
            write: { try await tasks.write($0, by: actor) })
        return (written?.after ?? state).summary(today: context.today)
    }
}

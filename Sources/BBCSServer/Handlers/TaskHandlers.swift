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
            return .init(tasks: try stores.memory.taskList(filter, today: context.today))
        }
        register(TaskShowRequest.self) { request, context in try stores.memory.taskDetail(request.code, today: context.today) }
        register(TaskUpdateRequest.self) { r, context in
            let updated = try await stores.tasks.update(code: r.code, status: r.status, progress: r.progress, note: r.note, by: context.actor)
            await stores.memory.reload(tasks: [r.code]) // until ChangeStream
            return updated
        }
        register(TaskRescheduleRequest.self) { r, context in
            let rescheduled = try await stores.tasks.reschedule(code: r.code, to: r.date, reason: r.reason, by: context.actor)
            await stores.memory.reload(tasks: [r.code]) // until ChangeStream
            return rescheduled
        }
        register(TaskHistoryRequest.self) { r, context in
            let (task, changes) = try await stores.tasks.history(code: r.code, today: context.today)
            return .init(task: task, changes: changes, slippage: Slippage(changes))
        }
    }
}

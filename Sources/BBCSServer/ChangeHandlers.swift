import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation

extension MethodTable {
    /// Figures, targets and what is due.
    mutating func registerFigureMethods(_ store: FigureStore) {
        register(FigureSubmitRequest.self) { r, context in
            let (code, status) = try await store.submit(code: r.code, period: r.period, value: r.value, note: r.note, by: context.actor)
            return FigureResult(indicator: code, status: status)
        }
        register(FigureCorrectRequest.self) { r, context in
            let (code, status) = try await store.correct(code: r.code, period: r.period, value: r.value, reason: r.reason,
                                                         revision: r.revision, note: r.note, by: context.actor)
            return FigureResult(indicator: code, status: status)
        }
        register(FigureHistoryRequest.self) { r, _ in
            let (code, revisions) = try await store.history(code: r.code, period: r.period)
            return .init(indicator: code, revisions: revisions)
        }
        register(FigureValidateRequest.self) { r, context in
            let (code, status) = try await store.validate(code: r.code, period: r.period, revision: r.revision, by: context.actor)
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
            let figures = try await store.due(posts: posts, today: context.today)
            return .init(posts: posts ?? ["(every post)"], figures: figures)
        }
        register(TargetSetRequest.self) { r, context in
            let (code, change) = try await store.setTarget(code: r.code, period: r.period, value: r.value, tolerance: r.tolerance,
                                                           reason: r.reason, by: context.actor)
            return .init(indicator: code, change: change)
        }
        register(TargetHistoryRequest.self) { r, _ in
            let (code, changes) = try await store.targetHistory(code: r.code)
            return .init(indicator: code, changes: changes)
        }
    }

    /// Task progress, reminders and the scheduler.
    mutating func registerTaskMethods(_ store: TaskStore, reminders: ReminderStore, scheduler: Scheduler) {
        register(TaskUpdateRequest.self) { r, context in
            try await store.update(code: r.code, status: r.status, progress: r.progress, note: r.note, by: context.actor)
        }
        register(TaskRescheduleRequest.self) { r, context in
            try await store.reschedule(code: r.code, to: r.date, reason: r.reason, by: context.actor)
        }
        register(TaskHistoryRequest.self) { r, context in
            let (task, changes) = try await store.history(code: r.code, today: context.today)
            return .init(task: task, changes: changes, slippage: Slippage(changes))
        }
        register(ReminderListRequest.self) { r, context in
            if r.failed == true {
                if let denial = Policy.check(.admin, context.principal) { throw denial }
                return .init(reminders: try await reminders.failingMail())
            }
            return .init(reminders: try await reminders.inbox(of: context.principal.login, all: r.all ?? false))
        }
        register(ReminderAckRequest.self) { r, context in try await reminders.acknowledge(r.id, by: context.actor) }
        register(SchedulerRunRequest.self) { _, context in
            let outcome = try await scheduler.run(as: context.principal)
            return .init(day: outcome.day, created: outcome.created, mailed: outcome.mailed, mailFailed: outcome.mailFailed)
        }
    }

    /// Users, posts and holdings, and the audit trail.
    mutating func registerDirectoryMethods(_ directory: Directory, audit: AuditLog) {
        register(UserAddRequest.self) { r, context in
            guard let account = try await UnixAccounts.account(r.login) else {
                throw ResponseError(.invalidParams, "there is no Unix account \"\(r.login)\" on this host; bbcs users are Unix accounts",
                                    data: ["param": "login"])
            }
            let name = (r.name ?? account.fullName).trimmingCharacters(in: .whitespaces)
            return try await directory.addUser(login: account.login, name: name.isEmpty ? account.login : name, email: r.email,
                                               by: context.actor)
        }
        register(UserListRequest.self) { _, context in .init(users: try await directory.users(today: context.today)) }
        register(UserDisableRequest.self) { r, context in try await directory.setDisabled(r.login, true, by: context.actor) }
        register(UserEnableRequest.self) { r, context in try await directory.setDisabled(r.login, false, by: context.actor) }
        register(PostAddRequest.self) { r, context in try await directory.addPost(r.name, by: context.actor) }
        register(PostGrantRequest.self) { r, context in
            try await directory.grant(login: r.login, post: r.post, from: r.from, until: r.until, by: context.actor)
        }
        register(PostRevokeRequest.self) { r, context in
            .init(revoked: try await directory.revoke(login: r.login, post: r.post, by: context.actor))
        }
        register(PostHoldersRequest.self) { r, context in
            let (post, holders) = try await directory.holders(of: r.post, all: r.all ?? false, today: context.today)
            return .init(post: post, holders: holders)
        }
        register(AuditListRequest.self) { r, _ in
            let limit = r.limit ?? 100
            guard (1...10_000).contains(limit) else {
                throw ResponseError(.invalidParams, "limit must be from 1 to 10000", data: ["param": "limit"])
            }
            return .init(entries: try await audit.entries(.init(object: r.object, login: r.user, since: r.since, limit: limit)))
        }
    }
}

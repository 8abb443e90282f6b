import BBCSCore
import BBCSProtocol

extension MethodTable {
    mutating func registerReminderHandlers(_ stores: Stores) {
        register(ReminderListRequest.self) { r, context in
            if r.failed == true {
                if let denial = Policy.check(.admin, context.principal) { throw denial }
                return .init(reminders: try await stores.reminders.failingMail())
            }
            return .init(reminders: try await stores.reminders.inbox(of: context.principal.login, all: r.all ?? false))
        }
        register(ReminderAckRequest.self) { r, context in try await stores.reminders.acknowledge(r.id, by: context.actor) }
    }
}

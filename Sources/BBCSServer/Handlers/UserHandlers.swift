import BBCSCore
import BBCSProtocol

extension MethodTable {
    mutating func registerUserHandlers(_ stores: Stores) {
        register(UserAddRequest.self) { r, context in
            guard let account = try await UnixAccounts.account(r.login) else {
                throw ResponseError(.invalidParams, "there is no Unix account \"\(r.login)\" on this host; bbcs users are Unix accounts",
                                    data: ["param": "login"])
            }
            let name = (r.name ?? account.fullName).trimmingCharacters(in: .whitespaces)
            let added = try await stores.directory.addUser(login: account.login, name: name.isEmpty ? account.login : name, email: r.email,
                                                           by: context.actor)
            await stores.memory.reloadDirectory() // until ChangeStream
            return added
        }
        register(UserListRequest.self) { _, context in
            let users = try await stores.directory.users(today: context.today)
            return .init(users: users.map { user in
                var shown = user
                if !Policy.mayReadEmail(of: user.login, context.principal) { shown.email = nil }
                return shown
            })
        }
        register(UserDisableRequest.self) { r, context in
            let user = try await stores.directory.setDisabled(r.login, true, by: context.actor)
            await stores.memory.reloadDirectory() // until ChangeStream
            return user
        }
        register(UserEnableRequest.self) { r, context in
            let user = try await stores.directory.setDisabled(r.login, false, by: context.actor)
            await stores.memory.reloadDirectory() // until ChangeStream
            return user
        }
    }
}

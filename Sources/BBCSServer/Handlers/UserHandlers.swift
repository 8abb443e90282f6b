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
            return try await stores.caughtUp {
                try await stores.directory.addUser(login: account.login, name: name.isEmpty ? account.login : name, email: r.email,
                                                   by: context.actor)
            }
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
            try await stores.caughtUp {
                try await stores.directory.setDisabled(r.login, by: context.actor) { directory, principal in
                    try HoldingUseCases.setDisabled(principal, directory, login: r.login, disabled: true, today: context.today)
                }
            }
        }
        register(UserEnableRequest.self) { r, context in
            try await stores.caughtUp {
                try await stores.directory.setDisabled(r.login, by: context.actor) { directory, principal in
                    try HoldingUseCases.setDisabled(principal, directory, login: r.login, disabled: false, today: context.today)
                }
            }
        }
    }
}

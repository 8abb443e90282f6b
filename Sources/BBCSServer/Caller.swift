import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation

/// Who sent a request: read once per connection from the kernel and handed to every handler.
public struct Caller: Sendable {
    public var identity: Identity

    public init(identity: Identity) { self.identity = identity }
}

/// One request as its handler sees it: the caller's identity, what the database says about
/// them now, and the method and time every change is audited under.
public struct CallContext: Sendable {
    public let identity: Identity
    public let principal: Principal
    public let actor: Actor

    public var today: CalendarDate { actor.today }
}

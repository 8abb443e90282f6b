import BBCSProtocol

/// Who sent a request: read once per connection from the kernel and handed to every handler.
public struct Caller: Sendable {
    public var identity: Identity

    public init(identity: Identity) { self.identity = identity }
}

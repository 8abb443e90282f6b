/// Failures of the stores that are about the request, not the database.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No object of `kind` is known by `key`.
    case notFound(kind: String, key: String)

    public var description: String {
        switch self {
        case .notFound(let kind, let key): return "no \(kind) \"\(key)\""
        }
    }
}

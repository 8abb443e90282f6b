import BBCSCore
import Foundation

/// Failures of the stores that are about the request, not the database. (A refusal on
/// permission is `BBCSCore.Denial`; a rule a value breaks is `FigureRuleViolation`.)
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No object of `kind` is known by `key`.
    case notFound(kind: String, key: String)
    /// The change does not fit the state it met; `hint` names the method to call instead
    /// and its parameters.
    case conflict(String, hint: Hint?)
    /// A parameter is not acceptable.
    case invalid(param: String, String)

    public var description: String {
        switch self {
        case .notFound(let kind, let key): return "no \(kind) \"\(key)\""
        case .conflict(let message, _): return message
        case .invalid(_, let message): return message
        }
    }
}

import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation
import Logging

/// Maps every layer's errors to the protocol's, once. Nothing from SQL or libpq reaches a client.
/// Refusals for a database that cannot serve are counted by `failures` (the dispatcher's), not
/// logged one by one; without one, each is logged on its own.
enum WireErrors {
    static func map(_ error: Error, method: String, logger: Logger, failures: FailureLog? = nil) -> ResponseError {
        switch error {
        case let error as ResponseError:
            return error
        case let denial as Denial:
            return ResponseError(denial.unauthenticated ? .unauthenticated : .permissionDenied, denial.message,
                                 data: (denial.hint?.data ?? [:]).merging(["missing": denial.missing]) { _, missing in missing })
        case let error as StoreError:
            switch error {
            case .notFound(let kind, let key): return ResponseError(.notFound, "no \(kind) \"\(key)\"", data: ["kind": kind, "key": key])
            case .conflict(let message, let hint): return ResponseError(.conflict, message, data: hint?.data)
            case .invalid(let param, let message): return ResponseError(.invalidParams, message, data: ["param": param])
            }
        case let error as FigureRuleViolation:
            return ResponseError(.invalidParams, error.message, data: ["param": error.param])
        case let problem as FigureCSV.Problem:
            return ResponseError(.invalidParams, "the file was refused, nothing was imported: \(problem)",
                                 data: ["param": "content", "line": "\(problem.line)", "column": problem.column ?? ""])
        case let error as PlanFileError:
            return ResponseError(.invalidParams, "the plan file was refused: \(error)", data: ["path": error.path])
        case let error as PGError:
            if case .poolBusy = error {
                (failures ?? FailureLog(logger: logger)).record(.poolBusy, cause: "\(error)", method: method)
                return ResponseError(.unavailable, error.description)
            }
            if case .timedOut = error {
                if error.isCancelledAtShutdown {
                    logger.warning("request cancelled at shutdown", metadata: ["method": "\(method)"])
                    return ResponseError(.unavailable, "bbcsd is stopping and cancelled the request; nothing was changed",
                                         data: ["reason": "shutdown"])
                }
                (failures ?? FailureLog(logger: logger)).record(.timeout, cause: "\(error)", method: method)
                let within = RequestDeadline.current.map { " within \(PGError.seconds($0.budget))" } ?? " in time"
                return ResponseError(.timeout, "the request did not finish\(within) (a lock or a slow database); nothing was changed")
            }
            if case .outcomeUnknown = error {
                // The one `unavailable` that does not mean "nothing was stored": rare, so each is logged.
                logger.warning("write outcome unknown", metadata: ["method": "\(method)", "error": "\(error)"])
                return ResponseError(.unavailable, "the database stopped answering while the change was being stored, so whether it was "
                                     + "stored is not known; read it back before trying again", data: ["outcome": "unknown"])
            }
            if case .connectionFailed = error {
                (failures ?? FailureLog(logger: logger)).record(.unavailable, cause: "\(error)", method: method)
                return ResponseError(.unavailable, "the database is not reachable; try again shortly")
            }
            if error.isReadOnlyTransaction {
                // The pool has run it once more on a primary already: no host takes writes now.
                logger.warning("database read-only", metadata: ["method": "\(method)", "error": "\(error)"])
                return ResponseError(.unavailable, "the database is read-only for now (a failover may be under way); nothing was changed; try again shortly")
            }
            if error.isConflict {
                return ResponseError(.conflict, "the change conflicts with another one made at the same time; read again and retry")
            }
            logger.error("database error", metadata: ["method": "\(method)", "error": "\(error)"])
            return ResponseError(.internal, "the request failed inside the daemon; the log has details")
        case let error as DecodingError:
            return invalidParams(error)
        default:
            logger.error("unexpected error", metadata: ["method": "\(method)", "error": "\(error)"])
            return ResponseError(.internal, "the request failed inside the daemon; the log has details")
        }
    }

    /// `invalid_params` naming the parameter at fault.
    static func invalidParams(_ error: DecodingError) -> ResponseError {
        func name(_ path: [CodingKey]) -> String {
            let keys = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.filter { $0 != "params" }
            return keys.isEmpty ? "params" : keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let param = name(context.codingPath + [key])
            return ResponseError(.invalidParams, "missing parameter \"\(param)\"", data: ["param": param])
        case .typeMismatch(let type, let context):
            let param = name(context.codingPath)
            return ResponseError(.invalidParams, "parameter \"\(param)\" must be \(StrictJSON.describe(type))", data: ["param": param])
        case .valueNotFound(let type, let context):
            let param = name(context.codingPath)
            return ResponseError(.invalidParams, "parameter \"\(param)\" must be \(StrictJSON.describe(type)), not null", data: ["param": param])
        case .dataCorrupted(let context):
            let param = name(context.codingPath)
            return ResponseError(.invalidParams, "parameter \"\(param)\" is not valid: \(context.debugDescription)", data: ["param": param])
        @unknown default:
            return ResponseError(.invalidParams, "parameters are not valid")
        }
    }
}

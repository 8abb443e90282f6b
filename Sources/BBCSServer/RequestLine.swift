import BBCSCore
import BBCSProtocol
import Foundation

/// One request line, parsed once: its id, and either why it is not a request or the call it
/// asks for, with its parameters as sent and what the request is about (for logs and the
/// audit trail).
struct RequestLine: Decodable {
    enum Key: String, CodingKey { case id, method, params }

    /// The table whose entries decode the parameters; handed over in the decoder's `userInfo`.
    static let tableKey = CodingUserInfoKey(rawValue: "bbcs.methodTable")!

    /// The answer to JSON that is not a request.
    static let notARequest = ResponseError(.invalidRequest, "a request is a JSON object with \"method\" (a string), \"id\" and \"params\"")

    /// The answer to a line that is not JSON text.
    static let notJSON = ResponseError(.parseError, "the line is not JSON")

    /// A request for a method the table knows.
    struct Call {
        let method: String
        let entry: MethodTable.Entry
        /// The handler bound to the typed parameters, or the error decoding them gave:
        /// answered only once the caller may call the method.
        let bound: Result<MethodTable.BoundCall, Error>
        /// The parameters as sent (nil when absent), for a refusal's audit row.
        let params: JSONValue?
        /// The request's code, login, post or name.
        let subject: String?
    }

    var id: RequestID = .null
    /// The call, or why the line is not one.
    var call: Result<Call, ResponseError> = .failure(notARequest)

    init(from decoder: Decoder) throws {
        // A line that is JSON but no object throws here: an invalid request without an id.
        let container = try decoder.container(keyedBy: Key.self)
        do { id = try container.decodeIfPresent(RequestID.self, forKey: .id) ?? .null } catch { return }
        guard container.contains(.method) else {
            call = .failure(ResponseError(.invalidRequest, "the request has no \"method\""))
            return
        }
        guard let method = try? container.decode(String.self, forKey: .method) else { return }
        guard let table = decoder.userInfo[Self.tableKey] as? MethodTable, let entry = table.entries[method] else {
            call = .failure(ResponseError(.methodNotFound, "no method \"\(method)\"; system.describe lists them", data: ["method": method]))
            return
        }
        let params = container.contains(.params) ? try? container.decode(JSONValue.self, forKey: .params) : nil
        let about = try? container.decodeIfPresent(Subject.self, forKey: .params)
        let bound = Result { try entry.bind(container) }
        // The JSON reader reads a key or string only when asked for it: one that is not UTF-8
        // surfaces while binding, as the reader's own error rather than a DecodingError.
        if case .failure(let error) = bound, !(error is DecodingError), !(error is ResponseError) {
            call = .failure(Self.notJSON)
            return
        }
        call = .success(Call(method: method, entry: entry, bound: bound,
                             params: params,
                             subject: about?.code ?? about?.login ?? about?.post ?? about?.name))
    }

    private struct Subject: Decodable { var code: String?; var login: String?; var post: String?; var name: String? }
}

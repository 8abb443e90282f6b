import BBCSProtocol
import Foundation

/// One request line, parsed once: its id, its method's table entry, the typed parameters (or
/// why they were refused), and what the request is about, for logs and the audit trail.
struct RequestLine: Decodable {
    enum Key: String, CodingKey { case id, method, params }

    /// The table whose entries decode the parameters; handed over in the decoder's `userInfo`.
    static let tableKey = CodingUserInfoKey(rawValue: "bbcs.methodTable")!

    /// The answer to JSON that is not a request.
    static let notARequest = ResponseError(.invalidRequest, "a request is a JSON object with \"method\" (a string), \"id\" and \"params\"")

    var id: RequestID = .null
    /// Why the line is not a request; nil when it is one.
    var problem: ResponseError?
    var method = ""
    var entry: MethodTable.Entry?
    /// The typed parameters, or the error decoding them gave (answered only once the caller
    /// may call the method); nil with `entry`.
    var params: Result<any RequestType, Error>?
    /// The parameters as sent, kept only when they could not be typed (a refusal audits them).
    var untypedParams: JSONValue?
    var hasParams = false
    /// The request's code, login, post or name.
    var subject: String?

    init(from decoder: Decoder) throws {
        // A line that is JSON but no object throws here: an invalid request without an id.
        let container = try decoder.container(keyedBy: Key.self)
        do { id = try container.decodeIfPresent(RequestID.self, forKey: .id) ?? .null } catch { problem = Self.notARequest; return }
        guard container.contains(.method) else { problem = ResponseError(.invalidRequest, "the request has no \"method\""); return }
        guard let method = try? container.decode(String.self, forKey: .method) else { problem = Self.notARequest; return }
        self.method = method
        guard let table = decoder.userInfo[Self.tableKey] as? MethodTable, let entry = table.entries[method] else {
            problem = ResponseError(.methodNotFound, "no method \"\(method)\"; system.describe lists them", data: ["method": method])
            return
        }
        self.entry = entry
        hasParams = (try? container.decodeNil(forKey: .params)) == false
        params = Result { try entry.decode(container) }
        if case .failure = params, hasParams { untypedParams = try? container.decode(JSONValue.self, forKey: .params) }
        let about = try? container.decodeIfPresent(Subject.self, forKey: .params)
        subject = about?.code ?? about?.login ?? about?.post ?? about?.name
    }

    private struct Subject: Decodable { var code: String?; var login: String?; var post: String?; var name: String? }

    /// The parameters as JSON text for the audit trail, at most 4 KiB.
    func paramsForAudit() -> String? {
        guard hasParams else { return nil }
        let encoder = WireCoding.encoder()
        let data: Data?
        switch params {
        case .success(let request): data = try? encoder.encode(request)
        case .failure, nil: data = untypedParams.flatMap { try? encoder.encode($0) }
        }
        guard let data else { return nil }
        return data.count <= 4096 ? String(decoding: data, as: UTF8.self) : #"{"omitted_bytes":\#(data.count)}"#
    }
}

/// Any JSON value, for parameters that did not decode as their method's type.
enum JSONValue: Codable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

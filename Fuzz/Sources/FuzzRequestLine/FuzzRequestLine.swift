// The request decoder against the daemon's own method table: an input is one request line,
// read as the dispatcher reads it (each line parsed once, the method's parameters decoded
// and bound to its handler), with no database. Besides not trapping, it checks what a
// client relies on before any handler runs:
// - parameters that do not decode are `invalid_params`, never `internal`;
// - the reply names the id the request was read with, on one line of JSON;
// - the audit copy of the parameters stays within its 4 KiB.
@testable import BBCSPostgres
@testable import BBCSServer
import BBCSProtocol
import CLibFuzzer
import Foundation
import Logging

let quiet = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }

/// The daemon's table over a pool that never connects (no handler runs here).
let decoder: JSONDecoder = {
    let decoder = WireCoding.decoder()
    decoder.userInfo[RequestLine.tableKey] = MethodTable.withoutDatabase(logger: quiet)
    return decoder
}()

/// The reply to `line` up to running the handler: the dispatcher's answer when the line is
/// refused before that, or nil with the call when it would run.
func read(_ line: Data) -> (id: RequestID, refusal: ResponseError?) {
    let request: RequestLine
    do {
        request = try decoder.decode(RequestLine.self, from: line)
    } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
        return (.null, RequestLine.notJSON)
    } catch {
        return (.null, RequestLine.notARequest)
    }
    switch request.call {
    case .failure(let problem):
        return (request.id, problem)
    case .success(let call):
        if let params = call.params {
            let audit = AuditLog.paramsText(params)
            if audit.utf8.count > AuditLog.paramsBytes {
                fatalError("\(call.method): \(audit.utf8.count) bytes of parameters for the audit row")
            }
            if (try? JSONSerialization.jsonObject(with: Data(audit.utf8), options: [.fragmentsAllowed])) == nil {
                fatalError("\(call.method): the audit row's parameters are not JSON: \(audit.prefix(200))")
            }
        }
        do {
            _ = try call.bound.get()
            return (request.id, nil)
        } catch {
            let wire = WireErrors.map(error, method: call.method, logger: quiet)
            guard wire.code == .invalidParams else { fatalError("\(call.method): parameters refused as \(wire.code.rawValue): \(error)") }
            return (request.id, wire)
        }
    }
}

/// The id as an independent parser sees it, where it is plainly an integer or a string.
/// Not where a key may repeat: the daemon's reader keeps a repeated key's first value,
/// JSONSerialization its last, and JSON leaves it open.
func plainID(_ line: Data) -> RequestID? {
    let text = String(decoding: line, as: UTF8.self)
    guard text.components(separatedBy: "\"id\"").count <= 2, !text.contains("\\u") else { return nil }
    guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any], let id = object["id"] else { return nil }
    if let text = id as? String { return .string(text) }
    if let number = id as? NSNumber, String(cString: number.objCType) == "q" { return .number(number.intValue) }
    return nil
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let line = Data(UnsafeBufferPointer(start: data, count: size))
    let (id, refusal) = read(line)
    if let expected = plainID(line), refusal?.code != .parseError, expected != id {
        fatalError("read id \(id), the line says \(expected)")
    }
    // A call that would run still answers with its id: stand in an error for the handler's result.
    let reply = ErrorEnvelope(id: id, error: refusal ?? ResponseError(.unavailable, "no database here"))
    guard let encoded = try? WireCoding.encoder().encode(reply) else { fatalError("the reply to id \(id) does not encode") }
    guard !encoded.contains(UInt8(ascii: "\n")) else { fatalError("the reply to id \(id) spans lines") }
    guard let back = try? JSONDecoder().decode(ErrorEnvelope.self, from: encoded), back.id == id else {
        fatalError("the reply to id \(id) does not read back with it")
    }
    return 0
}

// SwiftPM makes this module's entry point the executable's `main`.
@_cdecl("FuzzRequestLine_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) }
}

import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// Bad input gets a clear answer and the daemon stays up.
@Suite("bad input")
struct BadInputTests {
    static let daemon = try! TestDaemon()
    let client: Client

    init() throws { client = try Self.daemon.client() }

    @Test func aLineThatIsNotJSONGetsParseErrorAndTheConnectionStaysUsable() throws {
        #expect(errorCode(try client.raw("this is not json")) == "parse_error")
        #expect(errorCode(try client.raw("{\"id\": 1, \"method\": ")) == "parse_error")
        #expect(try client.call(HelloRequest()).server == "bbcsd")
    }

    @Test func aRequestThatIsNotAnObjectOrHasNoMethodIsInvalid() throws {
        #expect(errorCode(try client.raw("[1, 2, 3]")) == "invalid_request")
        let reply = try client.raw(#"{"id": 4, "params": {}}"#)
        #expect(errorCode(reply) == "invalid_request")
        #expect(reply["id"] as? Int == 4)
        #expect(errorCode(try client.raw(#"{"id": 5, "method": 12}"#)) == "invalid_request")
    }

    @Test func unknownMethod() throws {
        let reply = try client.raw(#"{"id": "a", "method": "indicator.destroy"}"#)
        #expect(errorCode(reply) == "method_not_found")
        #expect(reply["id"] as? String == "a")
    }

    @Test func missingOrWronglyTypedParametersAreNamed() throws {
        var reply = try client.raw(#"{"id": 1, "method": "indicator.show", "params": {}}"#)
        #expect(errorCode(reply) == "invalid_params")
        #expect(((reply["error"] as? [String: Any])?["data"] as? [String: Any])?["param"] as? String == "code")
        reply = try client.raw(#"{"id": 2, "method": "indicator.show"}"#)
        #expect(errorCode(reply) == "invalid_params")
        reply = try client.raw(#"{"id": 3, "method": "indicator.show", "params": {"code": 11}}"#)
        #expect(errorCode(reply) == "invalid_params")
        #expect(((reply["error"] as? [String: Any])?["message"] as? String)?.contains("code") == true)
        reply = try client.raw(#"{"id": 4, "method": "indicator.list", "params": {"category": "important"}}"#)
        #expect(errorCode(reply) == "invalid_params")
        #expect(((reply["error"] as? [String: Any])?["data"] as? [String: Any])?["param"] as? String == "category")
        reply = try client.raw(#"{"id": 5, "method": "task.list", "params": {"dueBefore": "31/03/2026"}}"#)
        #expect(errorCode(reply) == "invalid_params")
        reply = try client.raw(#"{"id": 6, "method": "task.show", "params": "BCRP"}"#)
        #expect(errorCode(reply) == "invalid_params")
    }

    @Test func unknownFieldsAreIgnored() throws {
        let reply = try client.raw(#"{"id": 1, "method": "indicator.show", "params": {"code": "ComS_011", "colour": "red"}, "extra": true}"#)
        #expect(reply["error"] == nil)
        #expect((reply["result"] as? [String: Any]) != nil)
    }

    @Test func unknownCodeIsNotFound() throws {
        #expect(client.error(IndicatorShowRequest(code: "ComS_000"))?.code == .notFound)
        #expect(client.error(TaskShowRequest(code: "XYZ"))?.code == .notFound)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        var batch = ""
        for n in 0..<50 { batch += #"{"id": \#(n), "method": "indicator.show", "params": {"code": "ComS_011"}}"# + "\n" }
        _ = try client.exchange(rawLine: Data(batch.dropLast().utf8))  // the first reply
        var ids = [0]
        for _ in 1..<50 {
            let reply = try JSONSerialization.jsonObject(with: try client.readLine()) as? [String: Any]
            ids.append(reply?["id"] as? Int ?? -1)
        }
        #expect(ids == Array(0..<50))
    }

    @Test func aLineOverTheLimitGetsTooLargeThenTheConnectionCloses() throws {
        let huge = #"{"id": 1, "method": "system.hello", "params": {"pad": ""# + String(repeating: "x", count: defaultMaxLineBytes + 10) + "\"}}"
        let reply = try JSONSerialization.jsonObject(with: try client.exchange(rawLine: Data(huge.utf8))) as? [String: Any] ?? [:]
        #expect(errorCode(reply) == "too_large")
        #expect(throws: ClientError.self) { try client.readLine() }
        // The daemon itself is still serving.
        #expect(try Self.daemon.client().call(HelloRequest()).server == "bbcsd")
    }

    @Test func aLineJustUnderTheLimitIsServed() throws {
        let prefix = #"{"id": 1, "method": "system.hello", "params": {"pad": ""#
        let padding = defaultMaxLineBytes - prefix.utf8.count - 3
        let line = prefix + String(repeating: "x", count: padding) + "\"}}"
        #expect(line.utf8.count == defaultMaxLineBytes)
        let reply = try JSONSerialization.jsonObject(with: try client.exchange(rawLine: Data(line.utf8))) as? [String: Any] ?? [:]
        #expect(reply["error"] == nil)
    }

    @Test func aClientThatHalfClosesStillGetsItsReply() throws {
        let reply = try runProgram("/bin/sh", ["-c", "printf '%s\\n' '{\"id\":1,\"method\":\"system.hello\"}' | timeout 10 python3 -c \"import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read()); s.shutdown(socket.SHUT_WR); print(s.makefile().readline())\" \(Self.daemon.socketPath)"])
        #expect(reply.status == 0)
        #expect(reply.out.contains("\"server\":\"bbcsd\""))
    }
}

import BBCSClient
import BBCSProtocol
import Foundation
import Testing

/// What the fuzzers in Fuzz/ found, over the real socket; the reproducers are in Fuzz/Corpus.
@Suite("fuzz findings")
struct FuzzFindingTests {
    let client: Client

    init() throws { client = try ReadOnlyDaemon.shared.client() }

    private func reply(_ bytes: [UInt8]) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: try client.exchange(rawLine: Data(bytes))) as? [String: Any] ?? [:]
    }

    /// The JSON reader reads a string only when a method's parameters are decoded; bytes
    /// that are not UTF-8 there were answered `internal`.
    @Test func parametersThatAreNotUTF8AreAParseErrorWithTheRequestsID() throws {
        // Fuzz/Corpus/RequestLine/not-utf8-key.json: a key with a lone continuation byte.
        var answer = try reply(Array(#"{"id": "req-24", "method": "reminder.ack", "params": {""#.utf8) + [0xA2] + Array(#"d": 12}}"#.utf8))
        #expect(errorCode(answer) == "parse_error")
        #expect(answer["id"] as? String == "req-24")
        answer = try reply(Array(#"{"id": 7, "method": "task.show", "params": {"code": ""#.utf8) + [0xFF, 0xC3] + Array(#""}}"#.utf8))
        #expect(errorCode(answer) == "parse_error")
        #expect(answer["id"] as? Int == 7)
        #expect(try client.call(HelloRequest()).server == "bbcsd")
    }
}

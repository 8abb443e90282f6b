import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
@testable import BBCSServer
import BBCSTestSupport
import Foundation
import Testing

/// Refusals and conflicts answer a plain message, the error code, and a hint naming the
/// method to call with the parameters a client needs to word it; the words "bbcsctl ..."
/// are the client's. Over the real socket, with the daemon's clock at 10 July 2026.
@Suite("conflict hints", .serialized)
struct HintTests {
    static let daemon = try! TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])

    /// The conflict `request` meets: its hint and data, and a message without a command line.
    func conflict<R: RequestType>(_ request: R, hint: String, _ data: [String: String],
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        let error = try #require(try Self.daemon.client().error(request), sourceLocation: sourceLocation)
        #expect(error.code == .conflict, sourceLocation: sourceLocation)
        #expect(error.data == data.merging(["hint": hint]) { a, _ in a }, sourceLocation: sourceLocation)
        #expect(!error.message.contains("bbcsctl") && !error.message.contains("\n"), "\(error.message)", sourceLocation: sourceLocation)
    }

    @Test func figureConflictsNameTheMethodAndTheFigure() throws {
        let c = try Self.daemon.client()
        let period = Period("2025/26 Q3")!
        _ = try c.call(FigureSubmitRequest(code: "ComS_011", period: period, value: 400))
        try conflict(FigureSubmitRequest(code: "coms_011", period: period, value: 401), hint: "figure.correct",
                     ["code": "ComS_011", "period": "2025/26 Q3", "revision": "1"])
        try conflict(FigureCorrectRequest(code: "ComS_011", period: Period("2025/26 Q4")!, value: 1, reason: "recount", revision: 1),
                     hint: "figure.submit", ["code": "ComS_011", "period": "2025/26 Q4"])
        _ = try c.call(FigureCorrectRequest(code: "ComS_011", period: period, value: 402, reason: "recount", revision: 1))
        try conflict(FigureCorrectRequest(code: "ComS_011", period: period, value: 403, reason: "again", revision: 1),
                     hint: "figure.history", ["code": "ComS_011", "period": "2025/26 Q3"])
        try conflict(FigureValidateRequest(code: "ComS_011", period: period, revision: 1),
                     hint: "figure.history", ["code": "ComS_011", "period": "2025/26 Q3"])
    }

    @Test func directoryConflictsNameTheMethodAndWhoOrWhat() throws {
        let c = try Self.daemon.client()
        _ = try c.call(UserAddRequest(login: "daemon"))
        try conflict(UserAddRequest(login: "daemon"), hint: "user.list", ["login": "daemon"])
        try conflict(PostAddRequest(name: "licensing manager"), hint: "post.list", ["post": "Licensing Manager"])
        _ = try c.call(PostGrantRequest(login: "daemon", post: "Licensing Manager", from: CalendarDate(iso: "2026-07-01")))
        try conflict(PostGrantRequest(login: "daemon", post: "Licensing Manager", from: CalendarDate(iso: "2026-07-15")),
                     hint: "post.holders", ["post": "Licensing Manager", "all": "true"])
        try conflict(PostRevokeRequest(login: currentLogin, post: "admin"), hint: "post.grant", ["post": "admin"])
        try conflict(UserDisableRequest(login: currentLogin), hint: "post.grant", ["post": "admin"])
    }

    /// An unregistered caller is told to have an administrator add them, as `user.add` with their login.
    @Test func anUnregisteredCallerIsPointedToUserAdd() throws {
        let stranger = Principal(login: "stranger", uid: 4321, pid: 1, standing: .unregistered, posts: [])
        let denial = try #require(Policy.check(.registered, stranger))
        let wire = WireErrors.map(denial, method: "task.list", logger: .init(label: "test"))
        #expect(wire.code == .unauthenticated)
        #expect(wire.data == ["hint": "user.add", "login": "stranger", "missing": "registration"])
        #expect(wire.message == "stranger (uid 4321) is not a registered bbcs user")
    }
}

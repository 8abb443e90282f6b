import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// The handshake and introspection, over the real socket.
@Suite("system")
struct SystemTests {
    let client: Client

    init() throws { client = try ReadOnlyDaemon.shared.client() }

    @Test func helloReportsTheKernelIdentity() throws {
        let hello = try client.call(HelloRequest())
        #expect(hello.server == "bbcsd")
        #expect(hello.protocolVersion == protocolVersion)
        #expect(hello.identity.uid == getuid())
        #expect(hello.identity.gid == getgid())
        #expect(hello.identity.pid == getpid())
        let name = String(cString: getpwuid(getuid())!.pointee.pw_name)
        #expect(hello.identity.user == name)
    }

    @Test func describeListsEveryMethodWithItsParameters() throws {
        let described = try client.call(DescribeRequest())
        #expect(described.errorCodes?.contains("timeout") == true)
        let methods = described.methods
        let names = Set(methods.map(\.name))
        for expected in ["system.hello", "system.describe", "plan.show", "plan.import", "objective.list", "indicator.list",
                         "indicator.show", "task.list", "task.show", "strategy.list", "risk.list", "post.list"] {
            #expect(names.contains(expected), "\(expected) missing")
        }
        let show = try #require(methods.first { $0.name == "indicator.show" })
        #expect(show.params == [ParameterInfo("code", "string", required: true, "indicator code, e.g. ComS_011 (aliases accepted)")])
    }
}

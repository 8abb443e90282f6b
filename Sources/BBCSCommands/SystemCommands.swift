import ArgumentParser
import BBCSCore
import BBCSProtocol
import Foundation

struct WhoAmI: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Show who the daemon takes you to be, and your posts.")
    @OptionGroup var connection: Connection

    func run() throws {
        try connection.run(HelloRequest()) { hello in
            let id = hello.identity
            print("\(id.user) (uid \(id.uid), gid \(id.gid), pid \(id.pid))")
            print("posts: \(hello.posts.isEmpty ? "none" : hello.posts.joined(separator: ", "))")
            print("server: \(hello.server) \(hello.version), protocol \(hello.protocolVersion)")
        }
    }
}

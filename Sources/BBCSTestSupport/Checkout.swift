import BBCSCore
import BBCSServer
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The package's root folder, found from this file's path.
public let packageRoot: URL = {
    var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
        dir.deleteLastPathComponent()
    }
    return dir
}()

/// The build folder holding the running test bundle or benchmark, and so the bbcsd and
/// bbcsctl built with it.
public let binDirectory: URL = {
    for candidate in [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()] {
        var dir = candidate
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("bbcsd").path) { return dir }
            dir.deleteLastPathComponent()
        }
    }
    return packageRoot.appendingPathComponent(".build/debug")
}()

/// The plan file shipped in the checkout, its text and its document.
public let shippedPlanURL = packageRoot.appendingPathComponent(Resources.defaultPlan)
public let shippedPlanText: String = {
    do { return try String(contentsOf: shippedPlanURL, encoding: .utf8) } catch { fatalError("cannot read \(shippedPlanURL.path): \(error)") }
}()
public let shippedPlan: PlanDocument = {
    do { return try PlanDocument.load(from: Data(shippedPlanText.utf8)) } catch { fatalError("the shipped plan does not load: \(error)") }
}()

/// The login running this process (its uid when the account has no name).
public let currentLogin: String = getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? String(getuid())

/// A new folder under /tmp that the PostgreSQL account can reach; the caller removes it.
public func makeTemporaryDirectory(_ prefix: String) -> URL {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap(mkdtemp).map { String(cString: $0) } }
    guard let path else { fatalError("cannot create a temporary folder for \(prefix): \(String(cString: strerror(errno)))") }
    chmod(path, 0o755)
    return URL(fileURLWithPath: path)
}

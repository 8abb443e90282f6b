import Foundation
import Synchronization

/// Work started on a thread of its own, so blocking calls never starve Swift's cooperative
/// pool (the tests are synchronous and block on sockets and processes).
public final class Background<T: Sendable>: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<T, any Error>>(.failure(CancellationError()))

    public init(_ work: @escaping @Sendable () throws -> T) {
        let thread = Thread { [self] in
            let outcome = Result { try work() }
            result.withLock { $0 = outcome }
            done.signal()
        }
        thread.start()
    }

    /// Waits for the work to finish and returns its value or rethrows its error.
    public func value() throws -> T {
        done.wait()
        done.signal()
        return try result.withLock { $0 }.get()
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking work (libnats calls, which wait on sockets and condition variables) on a thread
/// of its own, never on Swift concurrency's cooperative pool, whose few threads would otherwise
/// sit idle in `natsSubscription_Fetch` or in an acknowledgement wait.
public enum BlockingThread {
    /// Starts a detached thread running `body`; returns at once.
    public static func start(_ body: @escaping @Sendable () -> Void) {
        final class Box: @unchecked Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        defer { pthread_attr_destroy(&attr) }
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attr, { p in
            Unmanaged<Box>.fromOpaque(p!).takeRetainedValue().body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// Runs `body` on a thread of its own and returns its result to the awaiting task.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            start {
                do { c.resume(returning: try body()) } catch { c.resume(throwing: error) }
            }
        }
    }
}

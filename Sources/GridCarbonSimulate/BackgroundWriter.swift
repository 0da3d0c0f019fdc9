import Dispatch
import GridCarbonIO

/// Hands chunks to an ``OutputFile`` on a serial background queue, so compression and `write(2)`
/// overlap with generation. Order is kept; at most `depth` chunks wait, so memory stays bounded.
final class BackgroundWriter: @unchecked Sendable {
    private let file: OutputFile
    private let queue = DispatchQueue(label: "gridcarbon.simulate.writer")
    private let slots: DispatchSemaphore
    private let lock = DispatchSemaphore(value: 1)
    /// The first write error; guarded by `lock`.
    private var failure: (any Error)?

    init(file: OutputFile, depth: Int = 4) {
        self.file = file
        slots = DispatchSemaphore(value: depth)
    }

    private var firstError: (any Error)? {
        lock.wait()
        defer { lock.signal() }
        return failure
    }

    /// Queues a copy of `bytes`; throws the first error a previous write met.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let e = firstError { throw e }
        let chunk = [UInt8](bytes)
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            if firstError != nil { return }
            do {
                try file.write(chunk)
            } catch {
                lock.wait()
                if failure == nil { failure = error }
                lock.signal()
            }
        }
    }

    /// Waits for every queued chunk, then finishes and closes the file.
    func close() throws {
        queue.sync {}
        if let e = firstError { throw e }
        try file.close()
    }
}

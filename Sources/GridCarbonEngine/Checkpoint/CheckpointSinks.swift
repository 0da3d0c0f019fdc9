import GridCarbonModel

// The engine checkpoint is written in passes through ``ByteSink``s: counted (``CountingSink``),
// then checksummed, then copied to memory or streamed to a file.

/// Computes the CRC-32 of the payload without keeping it.
struct CRCSink: ByteSink {
    var crc: UInt32
    var counting: Bool { false }
    @inline(__always) mutating func bytes(_ p: UnsafeRawPointer, count n: Int) {
        crc = CRC32.checksum(UnsafeRawBufferPointer(start: p, count: n), seed: crc)
    }
    mutating func reserve(_ n: Int) { preconditionFailure("reserve is for the counting pass") }
}

/// Hands the payload to a writer in chunks of about 1 MiB.
struct StreamSink: ByteSink {
    var buffer: [UInt8] = []
    let write: (UnsafeRawBufferPointer) throws -> Void
    var error: (any Error)?
    var written = 0
    var counting: Bool { false }
    init(write: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.write = write
        buffer.reserveCapacity(1 << 20)
    }
    mutating func bytes(_ p: UnsafeRawPointer, count n: Int) {
        written += n
        if buffer.count + n > 1 << 20 { flush() }
        if n >= 1 << 20 {
            if error == nil { do { try write(UnsafeRawBufferPointer(start: p, count: n)) } catch { self.error = error } }
            return
        }
        buffer.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
    }
    mutating func flush() {
        if !buffer.isEmpty && error == nil {
            do { try buffer.withUnsafeBytes { try write($0) } } catch { self.error = error }
        }
        buffer.removeAll(keepingCapacity: true)
    }
    mutating func reserve(_ n: Int) { preconditionFailure("reserve is for the counting pass") }
}

/// Copies the payload into memory sized by the counting pass.
struct MemorySink: ByteSink {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    var at = 0
    var counting: Bool { false }
    @inline(__always) mutating func bytes(_ p: UnsafeRawPointer, count n: Int) {
        precondition(n <= capacity - at, "checkpoint larger than counted")
        (base + at).copyMemory(from: p, byteCount: n)
        at += n
    }
    mutating func reserve(_ n: Int) { preconditionFailure("reserve is for the counting pass") }
}

/// Where bytes of a binary format go: the one little-endian writer behind every format of the
/// project (engine checkpoints, the registry snapshot, alert state, write-ahead log entries).
///
/// A sink may be a counting pass (``counting`` is true: nothing is kept, only sizes add up), so a
/// format written twice through the same code is sized exactly before it is copied. Scalars are
/// written little-endian; ``raw(_:count:)`` and ``array(_:)`` copy memory as it is (formats that
/// use them record the writer's byte order, see `EngineCheckpointFormat.flags`).
public protocol ByteSink {
    /// True for a pass that only counts bytes.
    var counting: Bool { get }
    /// Appends `count` bytes from `pointer`.
    mutating func bytes(_ pointer: UnsafeRawPointer, count: Int)
    /// Accounts for `count` bytes without producing them (counting pass only).
    mutating func reserve(_ count: Int)
}

extension ByteSink {
    @inline(__always) public mutating func u8(_ v: UInt8) { withUnsafeBytes(of: v) { bytes($0.baseAddress!, count: 1) } }
    @inline(__always) public mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes($0.baseAddress!, count: 2) } }
    @inline(__always) public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes($0.baseAddress!, count: 4) } }
    @inline(__always) public mutating func i32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { bytes($0.baseAddress!, count: 4) } }
    @inline(__always) public mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes($0.baseAddress!, count: 8) } }
    @inline(__always) public mutating func i64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes($0.baseAddress!, count: 8) } }
    @inline(__always) public mutating func f64(_ v: Double) { u64(v.bitPattern) }

    /// `n` values of `T` copied from memory as they are.
    @inline(__always) public mutating func raw<T>(_ p: UnsafePointer<T>, count n: Int) {
        if n > 0 { bytes(UnsafeRawPointer(p), count: n * MemoryLayout<T>.stride) }
    }

    /// An array's elements copied from memory as they are (no count: write it first).
    public mutating func array<T>(_ a: [T]) {
        a.withUnsafeBytes { if $0.count > 0 { bytes($0.baseAddress!, count: $0.count) } }
    }

    /// Bytes as they are (no length: the format knows it, or they run to the end).
    public mutating func bytes(_ b: UnsafeRawBufferPointer) {
        if let base = b.baseAddress, b.count > 0 { bytes(base, count: b.count) }
    }

    /// Bytes as they are (no length: the format knows it, or they run to the end).
    public mutating func bytes(_ b: [UInt8]) { b.withUnsafeBytes { bytes($0) } }

    /// UTF-8 bytes preceded by their count as an i64.
    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { u in
            i64(Int64(u.count))
            bytes(UnsafeRawBufferPointer(u))
        }
    }
}

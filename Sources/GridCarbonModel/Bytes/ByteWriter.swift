/// A ``ByteSink`` that keeps what it is given in an array.
public struct ByteWriter: ByteSink {
    /// Everything written so far.
    public var bytes: [UInt8]

    /// An empty writer, with room for `capacity` bytes.
    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// A writer that continues after `prefix`.
    public init(_ prefix: [UInt8]) { bytes = prefix }

    public var counting: Bool { false }

    @inline(__always) public mutating func bytes(_ pointer: UnsafeRawPointer, count: Int) {
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: count))
    }

    public mutating func reserve(_ count: Int) { preconditionFailure("reserve is for a counting pass") }
}

/// A ``ByteSink`` that only counts: the first pass of a format written twice.
public struct CountingSink: ByteSink {
    /// Bytes counted so far.
    public var size = 0
    public init() {}
    public var counting: Bool { true }
    @inline(__always) public mutating func bytes(_ pointer: UnsafeRawPointer, count: Int) { size += count }
    public mutating func reserve(_ count: Int) { size += count }
}

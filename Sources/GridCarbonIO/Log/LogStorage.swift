/// Where the write-ahead log's segments live: files in a folder (``FileLogStorage``), or, in the
/// simulation tests, memory that can lose what was not synced, tear a write or fail an fsync.
///
/// A segment is named by the LSN it starts at. The log appends to one segment at a time from one
/// thread and syncs it from another; ``sync(_:)`` may run while ``append(_:_:)`` does, on the
/// same segment. Every other call comes from the appending thread.
public protocol LogStorage: AnyObject, Sendable {
    /// Start LSNs of the segments there are, in order.
    func segments() throws -> [Int64]
    /// A segment's whole content.
    func read(_ segment: Int64) throws -> [UInt8]
    /// Creates an empty segment, durably (the folder entry too), and opens it for appending.
    func create(_ segment: Int64) throws
    /// Opens an existing segment for appending at its end.
    func openForAppend(_ segment: Int64) throws
    /// Appends `header` then `payload` to an open segment: all of it, or throws.
    func append(_ segment: Int64, header: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) throws
    /// Makes what was appended to an open segment durable; throws when the storage says it is not.
    func sync(_ segment: Int64) throws
    /// Closes an open segment.
    func close(_ segment: Int64)
    /// Cuts a segment to `size` bytes, durably (a torn tail found by recovery).
    func truncate(_ segment: Int64, to size: Int) throws
    /// Deletes a segment.
    func remove(_ segment: Int64)
    /// A segment's size in bytes (0 when it is gone).
    func size(_ segment: Int64) -> Int64
}

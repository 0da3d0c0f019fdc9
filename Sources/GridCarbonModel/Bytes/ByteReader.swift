/// Reads a binary format written through a ``ByteSink``: little-endian scalars, every read checked
/// against the bytes left, and every error naming the field it was reading (``ByteCodecError``).
///
/// The reader does not own the bytes: keep them alive while it is used.
public struct ByteReader {
    /// Start of the bytes.
    public let base: UnsafeRawPointer
    /// End offset (exclusive).
    public let end: Int
    /// Offset of the next read.
    public var at: Int
    /// What is being read (a section, an entry kind): part of every error.
    public var context: String

    /// Reads `buffer` from `offset` on.
    public init(_ buffer: UnsafeRawBufferPointer, from offset: Int = 0, context: String = "") {
        // A zero-length buffer may have no base address; any address will do as nothing is read.
        base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        end = buffer.count
        at = offset
        self.context = context
    }

    /// Runs `body` with a reader over `bytes` (kept alive for the call).
    public static func read<T>(_ bytes: [UInt8], context: String = "", _ body: (inout ByteReader) throws -> T) rethrows -> T {
        try bytes.withUnsafeBytes { p in
            var r = ByteReader(p, context: context)
            return try body(&r)
        }
    }

    /// Bytes not read yet.
    public var remaining: Int { end - at }

    /// Checks that `n` more bytes are there.
    @inline(__always) public func need(_ n: Int, _ field: @autoclosure () -> String) throws(ByteCodecError) {
        guard n >= 0 && n <= end - at else {
            throw ByteCodecError(.truncated, field: field(), offset: at, context: context,
                                 detail: "\(n) bytes needed at offset \(at), \(end - at) left")
        }
    }

    @inline(__always) mutating func load<T: FixedWidthInteger>(_ type: T.Type, _ field: @autoclosure () -> String) throws(ByteCodecError) -> T {
        try need(MemoryLayout<T>.size, field())
        let v = base.loadUnaligned(fromByteOffset: at, as: T.self)
        at += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    @inline(__always) public mutating func u8(_ field: @autoclosure () -> String = "a byte") throws(ByteCodecError) -> UInt8 { try load(UInt8.self, field()) }
    @inline(__always) public mutating func u16(_ field: @autoclosure () -> String = "a number") throws(ByteCodecError) -> UInt16 { try load(UInt16.self, field()) }
    @inline(__always) public mutating func u32(_ field: @autoclosure () -> String = "a number") throws(ByteCodecError) -> UInt32 { try load(UInt32.self, field()) }
    @inline(__always) public mutating func i32(_ field: @autoclosure () -> String = "a number") throws(ByteCodecError) -> Int32 { try load(Int32.self, field()) }
    @inline(__always) public mutating func u64(_ field: @autoclosure () -> String = "a number") throws(ByteCodecError) -> UInt64 { try load(UInt64.self, field()) }
    @inline(__always) public mutating func i64(_ field: @autoclosure () -> String = "a number") throws(ByteCodecError) -> Int64 { try load(Int64.self, field()) }
    @inline(__always) public mutating func f64(_ field: @autoclosure () -> String = "a number") throws(ByteCodecError) -> Double {
        Double(bitPattern: try load(UInt64.self, field()))
    }

    /// An i64 count of items of `each` bytes that must all fit in what is left.
    public mutating func count(each: Int, _ what: String) throws(ByteCodecError) -> Int {
        let start = at
        let v = try i64("the number of \(what)")
        guard v >= 0 && v <= Int64(remaining / max(each, 1)) else {
            throw ByteCodecError(.implausibleCount, field: "the number of \(what)", offset: start, context: context,
                                 detail: "\(v) \(what) do not fit in the \(remaining) bytes left")
        }
        return Int(v)
    }

    /// The next `n` bytes, in place.
    public mutating func bytes(_ n: Int, _ field: @autoclosure () -> String) throws(ByteCodecError) -> UnsafeRawBufferPointer {
        try need(n, field())
        defer { at += n }
        return UnsafeRawBufferPointer(start: base + at, count: n)
    }

    /// Everything not read yet, in place.
    public mutating func rest() -> UnsafeRawBufferPointer {
        defer { at = end }
        return UnsafeRawBufferPointer(start: base + at, count: end - at)
    }

    /// Copies `n` bytes to `dst` (or skips them when `dst` is nil).
    public mutating func raw(_ n: Int, into dst: UnsafeMutableRawPointer?, _ field: @autoclosure () -> String) throws(ByteCodecError) {
        try need(n, field())
        if let dst, n > 0 { dst.copyMemory(from: base + at, byteCount: n) }
        at += n
    }

    /// A ``ByteSink/string(_:)``: an i64 length and that many UTF-8 bytes.
    public mutating func string(_ field: @autoclosure () -> String = "a name") throws(ByteCodecError) -> String {
        let name = field()
        let n = try count(each: 1, "bytes of \(name)")
        return String(decoding: try bytes(n, name), as: UTF8.self)
    }

    /// UTF-8 bytes whose length was written as a `UInt16` before them.
    public mutating func string16(_ field: @autoclosure () -> String) throws(ByteCodecError) -> String {
        let name = field()
        let n = Int(try u16("the length of \(name)"))
        return String(decoding: try bytes(n, name), as: UTF8.self)
    }

    /// Bytes whose length was written as a `UInt32` before them, in place.
    public mutating func bytes32(_ field: @autoclosure () -> String) throws(ByteCodecError) -> UnsafeRawBufferPointer {
        let name = field()
        let n = Int(try u32("the length of \(name)"))
        return try bytes(n, name)
    }

    /// An error about a value just read.
    public func bad(_ field: String, _ detail: String) -> ByteCodecError {
        ByteCodecError(.badValue, field: field, offset: at, context: context, detail: detail)
    }

    /// Checks that every byte was read.
    public func expectEnd(_ what: String) throws(ByteCodecError) {
        guard at == end else {
            throw ByteCodecError(.trailingBytes, field: what, offset: at, context: context, detail: "\(end - at) bytes after \(what)")
        }
    }
}

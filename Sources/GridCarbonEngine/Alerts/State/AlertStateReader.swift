/// Reader for ``AlertStateWriter``'s bytes; every read is bounds-checked.
struct AlertStateReader {
    let bytes: [UInt8]
    var at = 0
    mutating func i64() throws -> Int64 {
        guard at + 8 <= bytes.count else { throw AlertStateError.corrupt("a number at byte \(at)") }
        let v = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: Int64.self) }
        at += 8
        return Int64(littleEndian: v)
    }
    mutating func f64() throws -> Double { Double(bitPattern: UInt64(bitPattern: try i64())) }
    mutating func count() throws -> Int {
        let n = try i64()
        guard n >= 0 && n <= Int64(bytes.count - at) else { throw AlertStateError.corrupt("a count at byte \(at)") }
        return Int(n)
    }
    mutating func string() throws -> String {
        let n = try count()
        defer { at += n }
        return String(decoding: bytes[at..<(at + n)], as: UTF8.self)
    }
}

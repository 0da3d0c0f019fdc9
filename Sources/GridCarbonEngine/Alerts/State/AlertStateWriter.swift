/// Little-endian writer for the alert state.
struct AlertStateWriter {
    var bytes: [UInt8] = []
    mutating func i64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func f64(_ v: Double) { i64(Int64(bitPattern: v.bitPattern)) }
    mutating func string(_ s: String) { let u = Array(s.utf8); i64(Int64(u.count)); bytes.append(contentsOf: u) }
}

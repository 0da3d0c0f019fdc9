/// Minimal JSON writing into bytes for side outputs and API answers.
public enum JSONBytes {
    /// Appends `s` as a JSON string (quoted, escaped). Invalid UTF-8 becomes U+FFFD.
    public static func appendString(_ s: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(0x22)
        var clean = true
        for c in s where c < 0x20 || c == 0x22 || c == 0x5C || c >= 0x80 { clean = false; break }
        if clean {
            out.append(contentsOf: s)
        } else {
            let str = String(decoding: s, as: UTF8.self)
            for u in str.utf8 {
                switch u {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: out.append(contentsOf: [0x5C, 0x72])
                case 0x09: out.append(contentsOf: [0x5C, 0x74])
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(u >> 4)], hex[Int(u & 15)]])
                default: out.append(u)
                }
            }
        }
        out.append(0x22)
    }

    public static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendString(UnsafeRawBufferPointer($0), to: &out) }
    }

    /// Appends `"key":` (keys are plain ASCII).
    public static func appendKey(_ k: String, to out: inout [UInt8]) {
        out.append(0x22)
        out.append(contentsOf: k.utf8)
        out.append(0x22); out.append(0x3A)
    }
}

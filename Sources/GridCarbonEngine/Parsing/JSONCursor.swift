/// A validating scanner over one NDJSON line (RFC 8259 grammar), for ``LineParser``: strings with
/// their escapes checked (`\uXXXX` with surrogate pairs) and their UTF-8 validated, numbers and
/// literals by the JSON grammar, and nested objects and arrays skipped to any depth (reference §2.2:
/// unknown keys are ignored, whatever they hold). No allocation unless a value nests deeper than 64.
@usableFromInline
struct JSONCursor {
    @usableFromInline let l: UnsafeRawBufferPointer
    @usableFromInline var i: Int

    @inlinable
    init(_ l: UnsafeRawBufferPointer, at i: Int) {
        self.l = l
        self.i = i
    }

    @inlinable var atEnd: Bool { i >= l.count }

    /// The byte under the cursor, or 0 at the end.
    @inlinable var byte: UInt8 { i < l.count ? l[i] : 0 }

    /// Skips JSON whitespace.
    @inlinable
    mutating func ws() {
        while i < l.count {
            let c = l[i]
            guard c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A else { return }
            i += 1
        }
    }

    @inlinable
    static func hex(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: UInt32(c - 0x30)
        case 0x41...0x46: UInt32(c - 0x41 + 10)
        case 0x61...0x66: UInt32(c - 0x61 + 10)
        default: nil
        }
    }

    /// The four hex digits at `at`, or nil.
    @inlinable
    func hex4(_ at: Int) -> UInt32? {
        guard at + 4 <= l.count else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let d = Self.hex(l[at + k]) else { return nil }
            v = v << 4 | d
        }
        return v
    }

    /// Scans a string starting at its quote and checks it: returns the range of its content
    /// (between the quotes) and whether it holds escapes, or nil when it is not a valid JSON string
    /// (unterminated, a raw control character, a bad escape, a lone surrogate, invalid UTF-8).
    @inlinable
    mutating func string() -> (lo: Int, hi: Int, escaped: Bool)? {
        guard i < l.count, l[i] == 0x22 else { return nil }
        i += 1
        let lo = i
        var esc = false
        let n = l.count
        while i < n {
            let c = l[i]
            if c == 0x22 {
                let hi = i
                i += 1
                return (lo, hi, esc)
            }
            if c == 0x5C {
                esc = true
                guard i + 1 < n else { return nil }
                switch l[i + 1] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
                    i += 2
                case 0x75:
                    guard let u = hex4(i + 2) else { return nil }
                    i += 6
                    if u >= 0xD800 && u < 0xDC00 {
                        // A high surrogate must be followed by an escaped low one.
                        guard i + 1 < n, l[i] == 0x5C, l[i + 1] == 0x75, let v = hex4(i + 2), v >= 0xDC00 && v < 0xE000 else { return nil }
                        i += 6
                    } else if u >= 0xDC00 && u < 0xE000 {
                        return nil
                    }
                default:
                    return nil
                }
            } else if c < 0x20 {
                return nil
            } else if c < 0x80 {
                i += 1
            } else {
                guard let len = Self.utf8Length(l, at: i) else { return nil }
                i += len
            }
        }
        return nil
    }

    /// The length of the valid UTF-8 sequence starting at `at` (a lead byte >= 0x80), or nil.
    @inlinable
    static func utf8Length(_ l: UnsafeRawBufferPointer, at: Int) -> Int? {
        let n = l.count
        let c = l[at]
        @inline(__always) func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            at + k < n && l[at + k] >= lo && l[at + k] <= hi
        }
        switch c {
        case 0xC2...0xDF: return cont(1) ? 2 : nil
        case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : nil
        case 0xE1...0xEC, 0xEE, 0xEF: return cont(1) && cont(2) ? 3 : nil
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : nil
        case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : nil
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : nil
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : nil
        default: return nil
        }
    }

    /// Scans a number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`) or `true`, `false`,
    /// `null`; returns its range, or nil when the bytes are none of these.
    @inlinable
    mutating func scalar() -> (lo: Int, hi: Int)? {
        let n = l.count
        let lo = i
        guard i < n else { return nil }
        switch l[i] {
        case 0x74: return literal("true")
        case 0x66: return literal("false")
        case 0x6E: return literal("null")
        default: break
        }
        @inline(__always) func digit() -> Bool { i < n && l[i] >= 0x30 && l[i] <= 0x39 }
        if l[i] == 0x2D { i += 1 }
        guard digit() else { return nil }
        if l[i] == 0x30 { i += 1 } else { while digit() { i += 1 } }
        if i < n && l[i] == 0x2E {
            i += 1
            guard digit() else { return nil }
            while digit() { i += 1 }
        }
        if i < n && (l[i] == 0x65 || l[i] == 0x45) {
            i += 1
            if i < n && (l[i] == 0x2B || l[i] == 0x2D) { i += 1 }
            guard digit() else { return nil }
            while digit() { i += 1 }
        }
        return (lo, i)
    }

    @inlinable
    mutating func literal(_ s: StaticString) -> (lo: Int, hi: Int)? {
        let c = s.utf8CodeUnitCount
        guard i + c <= l.count else { return nil }
        for k in 0..<c where l[i + k] != s.utf8Start[k] { return nil }
        i += c
        return (i - c, i)
    }

    /// Skips one value of any kind, objects and arrays to any depth, checking its grammar.
    @inlinable
    mutating func skipValue() -> Bool {
        // Open containers: bit k of `shallow` (or `deep[k - 64]`) is set for an object.
        var depth = 0
        var shallow: UInt64 = 0
        var deep: [Bool] = []
        @inline(__always) func isObject(_ d: Int) -> Bool { d < 64 ? shallow >> UInt64(d) & 1 == 1 : deep[d - 64] }
        @inline(__always) func push(_ object: Bool) {
            if depth < 64 {
                if object { shallow |= 1 << UInt64(depth) } else { shallow &= ~(1 << UInt64(depth)) }
            } else if depth - 64 < deep.count {
                deep[depth - 64] = object
            } else {
                deep.append(object)
            }
            depth += 1
        }
        /// A member's key and colon.
        @inline(__always) func key() -> Bool {
            ws()
            guard string() != nil else { return false }
            ws()
            guard byte == 0x3A else { return false }
            i += 1
            return true
        }
        while true {
            // A value.
            ws()
            switch byte {
            case 0x22:
                guard string() != nil else { return false }
            case 0x7B:
                i += 1
                ws()
                if byte == 0x7D {
                    i += 1
                } else {
                    push(true)
                    guard key() else { return false }
                    continue
                }
            case 0x5B:
                i += 1
                ws()
                if byte == 0x5D {
                    i += 1
                } else {
                    push(false)
                    continue
                }
            default:
                guard scalar() != nil else { return false }
            }
            // After a value: close containers or go on to the next element.
            while true {
                if depth == 0 { return true }
                ws()
                let object = isObject(depth - 1)
                if byte == 0x2C {
                    i += 1
                    if object { guard key() else { return false } }
                    break
                }
                guard byte == (object ? 0x7D : 0x5D) else { return false }
                i += 1
                depth -= 1
            }
        }
    }

    /// Writes the content of a checked string (`src`, between its quotes) with its escapes decoded
    /// as UTF-8 to `dst`; returns the number of bytes written (never more than `src.count`).
    @inlinable
    static func unescape(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawPointer) -> Int {
        var i = 0, o = 0
        let n = src.count
        @inline(__always) func put(_ b: UInt8) { dst.storeBytes(of: b, toByteOffset: o, as: UInt8.self); o += 1 }
        func hex4(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 { v = v << 4 | (hex(src[at + k]) ?? 0) }
            return v
        }
        while i < n {
            let c = src[i]
            guard c == 0x5C, i + 1 < n else { put(c); i += 1; continue }
            let e = src[i + 1]
            i += 2
            switch e {
            case 0x62: put(0x08)
            case 0x66: put(0x0C)
            case 0x6E: put(0x0A)
            case 0x72: put(0x0D)
            case 0x74: put(0x09)
            case 0x75:
                var u = hex4(i)
                i += 4
                if u >= 0xD800 && u < 0xDC00 && i + 6 <= n {
                    let v = hex4(i + 2)
                    u = 0x10000 + ((u - 0xD800) << 10) + (v - 0xDC00)
                    i += 6
                }
                if u < 0x80 {
                    put(UInt8(u))
                } else if u < 0x800 {
                    put(UInt8(0xC0 | u >> 6)); put(UInt8(0x80 | u & 0x3F))
                } else if u < 0x10000 {
                    put(UInt8(0xE0 | u >> 12)); put(UInt8(0x80 | u >> 6 & 0x3F)); put(UInt8(0x80 | u & 0x3F))
                } else {
                    put(UInt8(0xF0 | u >> 18)); put(UInt8(0x80 | u >> 12 & 0x3F))
                    put(UInt8(0x80 | u >> 6 & 0x3F)); put(UInt8(0x80 | u & 0x3F))
                }
            default: put(e)
            }
        }
        return o
    }
}

/// Finds objects and values in JSON text by path, on bytes, without building the document, and
/// reads whole documents (``document(_:strictAt:)``, in `JSON/JSONScan+Document.swift`) for the
/// configuration file's one reader, ``ConfigFile``.
///
/// The path functions serve what needs the layout of a configuration file rather than its values
/// (where a value sits, the line of an error) and must stay cheap on a file with 10,000 alert
/// rules. They assume text a JSON parser accepts; on malformed text they answer what they can and
/// never read out of bounds. Keys are compared and returned as their raw bytes (escapes not
/// decoded).
public enum JSONScan {
    /// The keys of the object at `path` (`[]` for the top level, `["alerts", "alertmanager"]`), in
    /// order of appearance; empty when there is no object there.
    public static func objectKeys(_ text: [UInt8], at path: [String]) -> [String] {
        text.withUnsafeBufferPointer { p in
            guard let open = value(p, at: path), open < p.count, p[open] == UInt8(ascii: "{") else { return [] }
            var keys: [String] = []
            members(p, object: open) { key, _ in
                keys.append(String(decoding: UnsafeBufferPointer(rebasing: p[key]), as: UTF8.self))
                return true
            }
            return keys
        }
    }

    /// The byte range of the value at `path` (`["alerts", "rules"]`), or nil when there is none.
    public static func valueRange(_ text: [UInt8], at path: [String]) -> Range<Int>? {
        text.withUnsafeBufferPointer { p in
            guard let start = value(p, at: path) else { return nil }
            return start..<skipValue(p, start)
        }
    }

    /// The line (from 1) where the value at `path` starts; array elements by their index
    /// (`["alerts", "rules", "2"]`). For error messages: it walks the text each time.
    public static func line(_ text: [UInt8], of path: [String]) -> Int? {
        guard let start = text.withUnsafeBufferPointer({ value($0, at: path) }) else { return nil }
        return line(text, at: start)
    }

    /// The line (from 1) of byte `offset`.
    public static func line(_ text: [UInt8], at offset: Int) -> Int {
        text[..<min(offset, text.count)].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
    }

    /// `text` with the value at `path` replaced by `null` (a JSON reader that skips nulls then sees
    /// no value there); `text` itself when there is none.
    public static func nulling(_ text: [UInt8], at path: [String]) -> [UInt8] {
        guard let r = valueRange(text, at: path) else { return text }
        var out = text
        out.replaceSubrange(r, with: Array("null".utf8))
        return out
    }

    /// The bytes of the top-level member `key` of the JSON object `text` (one NDJSON record line),
    /// in place: a string's contents without its quotes (escapes not decoded), any other value as
    /// spelled; the last one when the key repeats, as the record parser reads it; nil when absent.
    public static func member(_ key: [UInt8], in text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        let p = text.assumingMemoryBound(to: UInt8.self)
        let open = skipSpace(p, 0)
        guard open < p.count, p[open] == UInt8(ascii: "{") else { return nil }
        var found: Range<Int>?
        members(p, object: open) { k, v in
            if p[k].elementsEqual(key) {
                let end = skipValue(p, v)
                found = p[v] == UInt8(ascii: "\"") ? (v + 1)..<max(v + 1, end - 1) : v..<end
            }
            return true
        }
        return found.map { UnsafeRawBufferPointer(rebasing: text[$0]) }
    }

    // MARK: - Walking

    /// Index of the first byte of the value at `path` (object keys, or array indices in decimal).
    static func value(_ p: UnsafeBufferPointer<UInt8>, at path: [String]) -> Int? {
        var at = skipSpace(p, 0)
        for name in path {
            guard at < p.count else { return nil }
            var found: Int?
            if p[at] == UInt8(ascii: "{") {
                let wanted = Array(name.utf8)
                members(p, object: at) { key, value in
                    if p[key].elementsEqual(wanted) { found = value; return false }
                    return true
                }
            } else if p[at] == UInt8(ascii: "["), let index = Int(name), index >= 0 {
                found = element(p, array: at, index)
            }
            guard let f = found else { return nil }
            at = f
        }
        return at < p.count ? at : nil
    }

    /// Index of the first byte of element `index` of the array opening at `open`.
    static func element(_ p: UnsafeBufferPointer<UInt8>, array open: Int, _ index: Int) -> Int? {
        var i = skipSpace(p, open + 1)
        guard i < p.count, p[i] != UInt8(ascii: "]") else { return nil }
        for _ in 0..<index {
            i = skipSpace(p, skipValue(p, i))
            guard i < p.count, p[i] == UInt8(ascii: ",") else { return nil }
            i = skipSpace(p, i + 1)
        }
        return i < p.count ? i : nil
    }

    /// Calls `body` with the key's byte range (inside the quotes) and the value's first index for
    /// each member of the object opening at `open`, until `body` returns false.
    static func members(_ p: UnsafeBufferPointer<UInt8>, object open: Int, _ body: (Range<Int>, Int) -> Bool) {
        var i = skipSpace(p, open + 1)
        while i < p.count, p[i] == UInt8(ascii: "\"") {
            let keyEnd = stringEnd(p, i)                      // index after the closing quote
            let key = (i + 1)..<max(i + 1, keyEnd - 1)
            i = skipSpace(p, keyEnd)
            guard i < p.count, p[i] == UInt8(ascii: ":") else { return }
            let v = skipSpace(p, i + 1)
            guard v < p.count, body(key, v) else { return }
            i = skipSpace(p, skipValue(p, v))
            guard i < p.count, p[i] == UInt8(ascii: ",") else { return }
            i = skipSpace(p, i + 1)
        }
    }

    /// Index after the value starting at `i`.
    static func skipValue(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        guard i < p.count else { return p.count }
        switch p[i] {
        case UInt8(ascii: "\""):
            return stringEnd(p, i)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var j = i
            while j < p.count {
                switch p[j] {
                case UInt8(ascii: "\""): j = stringEnd(p, j); continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return j + 1 }
                default: break
                }
                j += 1
            }
            return p.count
        default:
            var j = i
            while j < p.count {
                switch p[j] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: " "), UInt8(ascii: "\t"),
                     UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                    return j
                default: j += 1
                }
            }
            return p.count
        }
    }

    /// Index after the closing quote of the string whose opening quote is at `i`.
    static func stringEnd(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        var j = i + 1
        while j < p.count {
            switch p[j] {
            case UInt8(ascii: "\\"): j += 2
            case UInt8(ascii: "\""): return j + 1
            default: j += 1
            }
        }
        return p.count
    }

    static func skipSpace(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        var j = i
        while j < p.count, p[j] == 0x20 || p[j] == 0x0A || p[j] == 0x0D || p[j] == 0x09 { j += 1 }
        return j
    }
}

// MARK: - Strict reading of an array of flat objects

/// A member value of a flat object: scalars as they are, containers only by kind.
public enum JSONScalar: Equatable, Sendable {
    case string(String), number(Double), bool(Bool), null, array, object
}

/// One `"key": value` of an object, with the offset of its key (for line numbers in errors).
public struct JSONMember: Sendable {
    public var key: String
    public var value: JSONScalar
    public var offset: Int
}

extension JSONScan {
    /// What ``objectArray(_:at:)`` found at a path.
    public enum ObjectArray: Sendable {
        case absent
        /// A value that is not an array, at this offset.
        case notArray(Int)
        /// Per element: its offset and members, nil members for an element that is not an object.
        case elements([(offset: Int, members: [JSONMember]?)])
    }

    /// Reads the array at `path` (the alert rules), checking it strictly as JSON: the rest of the
    /// document is left to a JSON parser, and 10,000 rules cost no dictionary per rule.
    public static func objectArray(_ text: [UInt8], at path: [String]) throws(JSONSyntaxError) -> ObjectArray {
        try text.withUnsafeBufferPointer { p throws(JSONSyntaxError) -> ObjectArray in
            guard let start = value(p, at: path) else { return .absent }
            guard p[start] == UInt8(ascii: "[") else {
                _ = try Strict(p: p).value(start, depth: 0)
                return .notArray(start)
            }
            let reader = Strict(p: p)
            var out: [(offset: Int, members: [JSONMember]?)] = []
            var i = skipSpace(p, start + 1)
            if i < p.count && p[i] == UInt8(ascii: "]") { return .elements([]) }
            while true {
                guard i < p.count else { throw JSONSyntaxError(offset: i, message: "the array does not end") }
                if p[i] == UInt8(ascii: "{") {
                    var members: [JSONMember] = []
                    let at = i
                    i = try reader.object(i, depth: 1) { members.append($0) }
                    out.append((offset: at, members: members))
                } else {
                    let at = i
                    i = try reader.value(i, depth: 1).end
                    out.append((offset: at, members: nil))
                }
                i = skipSpace(p, i)
                guard i < p.count else { throw JSONSyntaxError(offset: i, message: "the array does not end") }
                if p[i] == UInt8(ascii: "]") { return .elements(out) }
                guard p[i] == UInt8(ascii: ",") else { throw JSONSyntaxError(offset: i, message: "expected ',' or ']'") }
                i = skipSpace(p, i + 1)
            }
        }
    }

    /// A strict JSON reader over bytes (RFC 8259): values, with scalars decoded.
    struct Strict {
        let p: UnsafeBufferPointer<UInt8>
        static let maxDepth = 256

        func fail(_ i: Int, _ why: String) -> JSONSyntaxError { JSONSyntaxError(offset: i, message: why) }

        /// The value at `i` (no leading space) and the index after it.
        func value(_ i: Int, depth: Int) throws(JSONSyntaxError) -> (value: JSONScalar, end: Int) {
            guard i < p.count else { throw fail(i, "a value is missing") }
            guard depth < Self.maxDepth else { throw fail(i, "nested too deeply") }
            switch p[i] {
            case UInt8(ascii: "\""):
                let (s, end) = try string(i)
                return (.string(s), end)
            case UInt8(ascii: "{"):
                return (.object, try object(i, depth: depth + 1) { _ in })
            case UInt8(ascii: "["):
                var j = JSONScan.skipSpace(p, i + 1)
                if j < p.count && p[j] == UInt8(ascii: "]") { return (.array, j + 1) }
                while true {
                    j = JSONScan.skipSpace(p, try value(j, depth: depth + 1).end)
                    guard j < p.count else { throw fail(j, "an array does not end") }
                    if p[j] == UInt8(ascii: "]") { return (.array, j + 1) }
                    guard p[j] == UInt8(ascii: ",") else { throw fail(j, "expected ',' or ']'") }
                    j = JSONScan.skipSpace(p, j + 1)
                }
            case UInt8(ascii: "t"): return (.bool(true), try literal(i, "true"))
            case UInt8(ascii: "f"): return (.bool(false), try literal(i, "false"))
            case UInt8(ascii: "n"): return (.null, try literal(i, "null"))
            default:
                let (v, end) = try number(i)
                return (.number(v), end)
            }
        }

        /// The object at `i`: each member to `body`; returns the index after `}`.
        func object(_ i: Int, depth: Int, _ body: (JSONMember) -> Void) throws(JSONSyntaxError) -> Int {
            var j = JSONScan.skipSpace(p, i + 1)
            if j < p.count && p[j] == UInt8(ascii: "}") { return j + 1 }
            while true {
                guard j < p.count, p[j] == UInt8(ascii: "\"") else { throw fail(j, "expected a key in quotes") }
                let at = j
                let (key, afterKey) = try string(j)
                j = JSONScan.skipSpace(p, afterKey)
                guard j < p.count, p[j] == UInt8(ascii: ":") else { throw fail(j, "expected ':' after a key") }
                j = JSONScan.skipSpace(p, j + 1)
                let (v, end) = try value(j, depth: depth)
                body(JSONMember(key: key, value: v, offset: at))
                j = JSONScan.skipSpace(p, end)
                guard j < p.count else { throw fail(j, "an object does not end") }
                if p[j] == UInt8(ascii: "}") { return j + 1 }
                guard p[j] == UInt8(ascii: ",") else { throw fail(j, "expected ',' or '}'") }
                j = JSONScan.skipSpace(p, j + 1)
            }
        }

        func literal(_ i: Int, _ word: StaticString) throws(JSONSyntaxError) -> Int {
            let n = word.utf8CodeUnitCount
            guard i + n <= p.count else { throw fail(i, "unexpected end") }
            for k in 0..<n where p[i + k] != word.utf8Start[k] { throw fail(i, "unexpected character") }
            return i + n
        }

        /// A number by the JSON grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
        func number(_ i: Int) throws(JSONSyntaxError) -> (Double, Int) {
            var j = i
            func digits() -> Int {
                let from = j
                while j < p.count, p[j] >= 0x30, p[j] <= 0x39 { j += 1 }
                return j - from
            }
            if j < p.count, p[j] == UInt8(ascii: "-") { j += 1 }
            guard j < p.count, p[j] >= 0x30, p[j] <= 0x39 else { throw fail(i, "unexpected character") }
            if p[j] == 0x30 { j += 1 } else { _ = digits() }
            if j < p.count, p[j] == UInt8(ascii: ".") {
                j += 1
                guard digits() > 0 else { throw fail(j, "a digit must follow the decimal point") }
            }
            if j < p.count, p[j] == UInt8(ascii: "e") || p[j] == UInt8(ascii: "E") {
                j += 1
                if j < p.count, p[j] == UInt8(ascii: "+") || p[j] == UInt8(ascii: "-") { j += 1 }
                guard digits() > 0 else { throw fail(j, "an exponent needs digits") }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: p[i..<j]), as: UTF8.self)
            guard let v = Double(text) else { throw fail(i, "not a number") }
            return (v, j)
        }

        /// The string whose opening quote is at `i`, decoded, and the index after its closing quote.
        func string(_ i: Int) throws(JSONSyntaxError) -> (String, Int) {
            var j = i + 1
            // Fast path: no escapes.
            while j < p.count, p[j] != UInt8(ascii: "\""), p[j] != UInt8(ascii: "\\"), p[j] >= 0x20 { j += 1 }
            guard j < p.count else { throw fail(i, "a string does not end") }
            if p[j] == UInt8(ascii: "\"") {
                guard let s = String(validating: UnsafeBufferPointer(rebasing: p[(i + 1)..<j]), as: UTF8.self) else { throw fail(i, "a string is not UTF-8") }
                return (s, j + 1)
            }
            var bytes = Array(p[(i + 1)..<j])
            while true {
                guard j < p.count else { throw fail(i, "a string does not end") }
                let c = p[j]
                if c == UInt8(ascii: "\"") { break }
                guard c >= 0x20 else { throw fail(j, "a control character in a string") }
                if c != UInt8(ascii: "\\") { bytes.append(c); j += 1; continue }
                guard j + 1 < p.count else { throw fail(j, "a string does not end") }
                switch p[j + 1] {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5C)
                case UInt8(ascii: "/"): bytes.append(0x2F)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var unit = try hex4(j + 2)
                    j += 6
                    if (0xD800..<0xDC00).contains(unit) {
                        // A high surrogate needs its low one.
                        guard j + 1 < p.count, p[j] == UInt8(ascii: "\\"), p[j + 1] == UInt8(ascii: "u") else { throw fail(j, "a lone surrogate") }
                        let low = try hex4(j + 2)
                        guard (0xDC00..<0xE000).contains(low) else { throw fail(j, "a lone surrogate") }
                        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        j += 6
                    } else if (0xDC00..<0xE000).contains(unit) {
                        throw fail(j - 6, "a lone surrogate")
                    }
                    bytes.append(contentsOf: Array(String(Character(Unicode.Scalar(unit)!)).utf8))
                    continue
                default: throw fail(j, "an unknown escape")
                }
                j += 2
            }
            guard let s = String(validating: bytes, as: UTF8.self) else { throw fail(i, "a string is not UTF-8") }
            return (s, j + 1)
        }

        func hex4(_ i: Int) throws(JSONSyntaxError) -> UInt32 {
            guard i + 4 <= p.count else { throw fail(i, "a \\u escape needs four hex digits") }
            var v: UInt32 = 0
            for k in 0..<4 {
                let c = p[i + k]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw fail(i, "a \\u escape needs four hex digits")
                }
                v = v << 4 | d
            }
            return v
        }
    }
}

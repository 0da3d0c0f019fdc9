/// Finds objects and values in JSON text by path, on bytes, without building the document.
///
/// It serves checks that need the layout of a configuration file rather than its values (which
/// keys an object holds, where a value sits) and that must stay cheap on a file with 10,000 alert
/// rules. It assumes text a JSON parser accepts; on malformed text it answers what it can and never
/// reads out of bounds. Keys are compared and returned as their raw bytes (escapes not decoded).
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

    /// `text` with the value at `path` replaced by `null` (a JSON reader that skips nulls then sees
    /// no value there); `text` itself when there is none.
    public static func nulling(_ text: [UInt8], at path: [String]) -> [UInt8] {
        guard let r = valueRange(text, at: path) else { return text }
        var out = text
        out.replaceSubrange(r, with: Array("null".utf8))
        return out
    }

    // MARK: - Walking

    /// Index of the first byte of the value at `path`.
    static func value(_ p: UnsafeBufferPointer<UInt8>, at path: [String]) -> Int? {
        var at = skipSpace(p, 0)
        for name in path {
            guard at < p.count, p[at] == UInt8(ascii: "{") else { return nil }
            let wanted = Array(name.utf8)
            var found: Int?
            members(p, object: at) { key, value in
                if p[key].elementsEqual(wanted) { found = value; return false }
                return true
            }
            guard let f = found else { return nil }
            at = f
        }
        return at < p.count ? at : nil
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

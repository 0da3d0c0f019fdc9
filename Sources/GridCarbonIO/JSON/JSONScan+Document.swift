extension JSONScan {
    /// Reads a whole JSON document, with every value's offset: one pass over the bytes, no
    /// Foundation, so a configuration with 10,000 alert rules stays cheap.
    ///
    /// It reads what Foundation's `JSONSerialization` reads, which takes a comma before a closing
    /// `]` or `}`; the value at `strictPath` (`["alerts", "rules"]`), if any, is read strictly by
    /// RFC 8259, as ``objectArray(_:at:)`` reads it.
    /// - Throws: ``JSONSyntaxError`` at the first byte that is not JSON.
    public static func document(_ text: [UInt8], strictAt strictPath: [String]? = nil) throws(JSONSyntaxError) -> JSONNode {
        try text.withUnsafeBufferPointer { p throws(JSONSyntaxError) -> JSONNode in
            let reader = Strict(p: p)
            let start = skipSpace(p, 0)
            let (node, end) = try reader.node(start, depth: 0, strict: strictPath?.isEmpty == true, toStrict: strictPath.map { $0[...] })
            let rest = skipSpace(p, end)
            guard rest == p.count else { throw JSONSyntaxError(offset: rest, message: "text after the value") }
            return node
        }
    }
}

extension JSONScan.Strict {
    /// The value at `i` (no leading space) as a node, and the index after it. Not `strict`: a
    /// comma may come before `]` or `}`. `toStrict` is the rest of the path to the value to read
    /// strictly, when this value is on it.
    func node(_ i: Int, depth: Int, strict: Bool, toStrict: ArraySlice<String>?) throws(JSONSyntaxError) -> (JSONNode, Int) {
        guard i < p.count else { throw fail(i, "a value is missing") }
        guard depth < Self.maxDepth else { throw fail(i, "nested too deeply") }
        switch p[i] {
        case UInt8(ascii: "{"):
            var members: [JSONNode.Member] = []
            var j = JSONScan.skipSpace(p, i + 1)
            if j < p.count && p[j] == UInt8(ascii: "}") { return (JSONNode(offset: i, value: .object([])), j + 1) }
            while true {
                guard j < p.count, p[j] == UInt8(ascii: "\"") else { throw fail(j, "expected a key in quotes") }
                let at = j
                let (key, afterKey) = try string(j)
                j = JSONScan.skipSpace(p, afterKey)
                guard j < p.count, p[j] == UInt8(ascii: ":") else { throw fail(j, "expected ':' after a key") }
                j = JSONScan.skipSpace(p, j + 1)
                var rest = toStrict
                if let r = rest { rest = r.first == key ? r.dropFirst() : nil }
                let (v, end) = try node(j, depth: depth + 1, strict: strict || rest?.isEmpty == true, toStrict: rest?.isEmpty == true ? nil : rest)
                members.append(JSONNode.Member(key: key, offset: at, node: v))
                j = JSONScan.skipSpace(p, end)
                guard j < p.count else { throw fail(j, "an object does not end") }
                if p[j] == UInt8(ascii: "}") { return (JSONNode(offset: i, value: .object(members)), j + 1) }
                guard p[j] == UInt8(ascii: ",") else { throw fail(j, "expected ',' or '}'") }
                j = JSONScan.skipSpace(p, j + 1)
                if !strict && j < p.count && p[j] == UInt8(ascii: "}") { return (JSONNode(offset: i, value: .object(members)), j + 1) }
            }
        case UInt8(ascii: "["):
            var elements: [JSONNode] = []
            var j = JSONScan.skipSpace(p, i + 1)
            if j < p.count && p[j] == UInt8(ascii: "]") { return (JSONNode(offset: i, value: .array([])), j + 1) }
            while true {
                let (v, end) = try node(j, depth: depth + 1, strict: strict, toStrict: nil)
                elements.append(v)
                j = JSONScan.skipSpace(p, end)
                guard j < p.count else { throw fail(j, "an array does not end") }
                if p[j] == UInt8(ascii: "]") { return (JSONNode(offset: i, value: .array(elements)), j + 1) }
                guard p[j] == UInt8(ascii: ",") else { throw fail(j, "expected ',' or ']'") }
                j = JSONScan.skipSpace(p, j + 1)
                if !strict && j < p.count && p[j] == UInt8(ascii: "]") { return (JSONNode(offset: i, value: .array(elements)), j + 1) }
            }
        default:
            let (v, end) = try value(i, depth: depth)
            switch v {
            case .string(let s): return (JSONNode(offset: i, value: .string(s)), end)
            case .number(let n): return (JSONNode(offset: i, value: .number(n)), end)
            case .bool(let b): return (JSONNode(offset: i, value: .bool(b)), end)
            default: return (JSONNode(offset: i, value: .null), end)
            }
        }
    }
}

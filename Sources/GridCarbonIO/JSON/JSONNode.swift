/// A JSON value read by ``JSONScan/document(_:)``, with the byte offset where it starts (for line
/// numbers in error messages). Objects keep their members in order, repeated keys included.
public struct JSONNode: Sendable {
    /// The first byte of the value in the text.
    public var offset: Int
    /// The value.
    public var value: Value

    /// A JSON value; containers hold nodes.
    public enum Value: Sendable {
        case object([Member])
        case array([JSONNode])
        case string(String)
        case number(Double)
        case bool(Bool)
        case null
    }

    /// One `"key": value` of an object, with the offset of its key.
    public struct Member: Sendable {
        public var key: String
        public var offset: Int
        public var node: JSONNode
    }

    /// The members when this is an object.
    public var members: [Member]? {
        if case .object(let m) = value { return m }
        return nil
    }

    /// The value of `key` when this is an object holding it; the last one when a key repeats (as
    /// JSON parsers do).
    public subscript(key: String) -> JSONNode? {
        members?.last { $0.key == key }?.node
    }

    /// The node at `path` (object keys, array elements by decimal index).
    public subscript(path path: [String]) -> JSONNode? {
        var node = self
        for name in path {
            switch node.value {
            case .object: guard let n = node[name] else { return nil }; node = n
            case .array(let a): guard let i = Int(name), a.indices.contains(i) else { return nil }; node = a[i]
            default: return nil
            }
        }
        return node
    }

    /// The value as a ``JSONScalar``: scalars as they are, containers only by kind.
    public var scalar: JSONScalar {
        switch value {
        case .object: .object
        case .array: .array
        case .string(let s): .string(s)
        case .number(let n): .number(n)
        case .bool(let b): .bool(b)
        case .null: .null
        }
    }
}

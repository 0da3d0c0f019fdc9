/// The configuration file (`--config`, JSON), read once: the one reader of it. It parses the bytes
/// once (``JSONScan/document(_:)``, no Foundation, so 10,000 alert rules stay cheap) and hands out
/// values by ``ConfigKey``; typed sections are built from it in their own files
/// (`EngineSettings+ConfigFile`, `ServeConfiguration+ConfigFile`, `ConfigFile+Alerts`).
///
/// Values are strings (`"15m"`) or lists of strings (a JSON array, or one comma-separated
/// string); a value of another type is treated as absent, as before.
public struct ConfigFile: Sendable {
    /// Where it was read from (`(no config)` for ``empty``).
    public let path: String
    /// The file's bytes, for line numbers in error messages.
    public let bytes: [UInt8]
    /// The parsed document: an object.
    public let root: JSONNode

    /// No configuration file: every key absent.
    public static let empty = ConfigFile(path: "(no config)", bytes: Array("{}".utf8), root: JSONNode(offset: 0, value: .object([])))

    private init(path: String, bytes: [UInt8], root: JSONNode) {
        self.path = path
        self.bytes = bytes
        self.root = root
    }

    /// Reads and parses the file at `path` and refuses keys that are not in ``ConfigKey/all``.
    public static func load(path: String) throws(ConfigurationError) -> ConfigFile {
        guard Files.exists(path) else { throw ConfigurationError(.unreadable, message: "config \(path): no such file") }
        let bytes: [UInt8]
        do { bytes = try Files.read(path) } catch { throw ConfigurationError(.unreadable, message: "config \(path): not a valid JSON object of settings") }
        let file = try ConfigFile(bytes: bytes, path: path)
        try file.checkKeys()
        return file
    }

    /// Parses configuration `bytes` read from `path`: as Foundation's JSON parser would (a comma
    /// may end a list), and `alerts.rules` strictly, as before.
    /// - Throws: ``ConfigurationError`` when they are not a JSON object of settings; a syntax error
    ///   inside `alerts.rules` names its line.
    public init(bytes: [UInt8], path: String) throws(ConfigurationError) {
        let notSettings = ConfigurationError(.notJSON, message: "config \(path): not a valid JSON object of settings")
        let root: JSONNode
        do { root = try JSONScan.document(bytes, strictAt: ConfigKey.alertRules.path) } catch {
            if let rules = JSONScan.valueRange(bytes, at: ConfigKey.alertRules.path), rules.contains(error.offset) {
                throw ConfigurationError(.notJSON, path: path, line: JSONScan.line(bytes, at: error.offset), message: "not valid JSON: \(error.message)")
            }
            throw notSettings
        }
        guard root.members != nil, Self.isSettings(root, at: []) else { throw notSettings }
        self.init(path: path, bytes: bytes, root: root)
    }

    /// Parses configuration `text` read from `path`.
    public init(text: String, path: String) throws(ConfigurationError) {
        try self.init(bytes: Array(text.utf8), path: path)
    }

    /// Whether the value at `path` holds settings: objects of them, scalars, and arrays of strings
    /// or of numbers (not of objects or arrays); `alerts.rules` is read by its own reader.
    static func isSettings(_ node: JSONNode, at path: [String]) -> Bool {
        switch node.value {
        case .object(let members):
            return members.allSatisfy { path + [$0.key] == ConfigKey.alertRules.path || isSettings($0.node, at: path + [$0.key]) }
        case .array(let elements):
            guard let first = elements.first else { return true }
            if case .string = first.value { return elements.allSatisfy { if case .string = $0.value { true } else { false } } }
            return elements.allSatisfy {
                switch $0.value {
                case .number, .bool: true
                default: false
                }
            }
        default:
            return true
        }
    }

    /// Refuses keys that are not in ``ConfigKey/all``, at the top level and in
    /// `alerts.alertmanager` (the keys of `alerts` itself are checked with their line when the
    /// alert settings are read, ``alertSettings(engine:budgetsOverride:)``).
    public func checkKeys() throws(ConfigurationError) {
        let known = ConfigKey.names(in: [])
        for m in root.members ?? [] where !known.contains(m.key) {
            throw ConfigurationError(.unknownKey, message: "config \(path): unknown key '\(m.key)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        let object = ConfigKey.alertmanager.path
        let nested = ConfigKey.names(in: object)
        for m in root[path: object]?.members ?? [] where !nested.contains(m.key) {
            throw ConfigurationError(.unknownKey, message: "config \(path): unknown key '\(m.key)' in \(object.joined(separator: ".")) (known: \(nested.sorted().joined(separator: ", ")))")
        }
    }

    /// The line (from 1) of the value at `path`, for error messages.
    public func line(of path: [String]) -> Int? {
        root[path: path].map { JSONScan.line(bytes, at: $0.offset) }
    }

    /// The line (from 1) of byte `offset`.
    public func line(at offset: Int) -> Int { JSONScan.line(bytes, at: offset) }

    /// The value of `key` as a string (a list joined with commas); nil when absent or not text.
    public func string(_ key: ConfigKey) -> String? {
        guard let node = root[path: key.path] else { return nil }
        if case .string(let s) = node.value { return s }
        return strings(node).map { $0.joined(separator: ",") }
    }

    /// The value of `key` as a list of strings (a JSON array, or one string).
    public func strings(_ key: ConfigKey) -> [String]? {
        guard let node = root[path: key.path] else { return nil }
        if case .string(let s) = node.value { return [s] }
        return strings(node)
    }

    /// `flag` when given, else the file's value of `key`, else its default.
    public func value(_ key: ConfigKey, flag: String?) -> String? {
        flag ?? string(key) ?? key.defaultValue
    }

    private func strings(_ node: JSONNode) -> [String]? {
        guard case .array(let elements) = node.value else { return nil }
        var out: [String] = []
        for e in elements {
            guard case .string(let s) = e.value else { return nil }
            out.append(s)
        }
        return out
    }
}

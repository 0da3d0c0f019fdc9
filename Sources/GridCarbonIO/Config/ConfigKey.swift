/// A key of the configuration file (`--config`, JSON), with its documentation and default: the
/// one list of keys, read by ``ConfigFile`` and used to refuse keys it does not hold (a typo must
/// not silently fall back to a default).
///
/// Durations and lists are strings (`"15m"`, `"15m,1h,1d"`); lists may also be JSON arrays of
/// strings. A flag of the same name overrides the file. Nested keys are written with dots
/// (`alerts.alertmanager.url`); the fields of each alert rule under `alerts.rules[]`.
public struct ConfigKey: Hashable, Sendable, CustomStringConvertible {
    /// The key's path, dot-separated (`alerts.keep_alive`).
    public let name: String
    /// What it sets, for people.
    public let doc: String
    /// The value used when neither the file nor a flag gives one; nil when there is none (the
    /// setting is then off, or needs to be given).
    public let defaultValue: String?
    /// The command-line flag that overrides it, without dashes (`reorder-window`), as error
    /// messages name it.
    public let flag: String?

    init(_ name: String, _ doc: String, default defaultValue: String? = nil, flag: String? = nil) {
        self.name = name
        self.doc = doc
        self.defaultValue = defaultValue
        self.flag = flag
    }

    /// The path's components (`["alerts", "keep_alive"]`).
    public var path: [String] { name.split(separator: ".").map(String.init) }
    /// The name the command line uses for it in messages: the flag, else the key.
    public var label: String { flag ?? name }
    public var description: String { name }
    public static func == (a: ConfigKey, b: ConfigKey) -> Bool { a.name == b.name }
    public func hash(into h: inout Hasher) { h.combine(name) }

    /// The names of the keys directly inside the object at `path` (`[]` for the top level):
    /// what that object may hold.
    public static func names(in path: [String]) -> Set<String> {
        var out = Set<String>()
        for k in all {
            let p = k.path
            guard p.count > path.count && Array(p.prefix(path.count)) == path else { continue }
            let name = p[path.count]
            out.insert(name.hasSuffix("[]") ? String(name.dropLast(2)) : name)
        }
        return out
    }

    /// The fields an alert rule (an element of `alerts.rules`) may hold (computed once: every
    /// rule is checked against it).
    public static let ruleFields: Set<String> = names(in: ["alerts", "rules[]"])
}

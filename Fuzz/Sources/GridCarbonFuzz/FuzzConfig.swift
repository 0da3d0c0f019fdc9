import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel

/// The registry CSV reader (reference §2.1), plain and meter-level, and the registry snapshot of
/// what it read.
enum FuzzRegistry {
    static func run(_ data: UnsafeRawBufferPointer) {
        let bytes = Array(data)
        for meterLevel in [false, true] {
            guard let registry = try? Registry(csv: bytes, origin: "fuzz", meterLevel: meterLevel) else { continue }
            let again = try! Registry(snapshot: registry.snapshot())
            precondition(again.count == registry.count, "registry snapshot does not round-trip")
            _ = LineParser(registry: registry)
        }
    }
}

/// The configuration file and its alert rules (reference §5), as the log stores them: rules JSON,
/// a NUL byte, budgets CSV. The JSON is also read as a whole configuration file.
enum FuzzAlerts {
    static func run(_ data: UnsafeRawBufferPointer) {
        let cut = data.firstIndex(of: 0) ?? data.count
        let json = String(decoding: UnsafeRawBufferPointer(rebasing: data[0..<cut]), as: UTF8.self)
        let budgets = cut < data.count ? String(decoding: UnsafeRawBufferPointer(rebasing: data[(cut + 1)...]), as: UTF8.self) : ""
        // A budgets path in the JSON would be read from disk: not what is fuzzed here.
        if json.contains("budgets") { return }
        _ = try? ConfigFile(text: json, path: "fuzz.json")
        if let settings = try? AlertConfig.fromCanonical(json: json, budgets: budgets, engine: EngineSettings()) {
            let (j, b) = AlertConfig.canonical(settings)
            _ = try! AlertConfig.fromCanonical(json: j, budgets: b, engine: EngineSettings())
        }
        _ = try? AlertConfig.parseBudgets(budgets, path: "fuzz.csv")
    }
}

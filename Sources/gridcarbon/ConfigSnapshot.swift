import Configuration
import Foundation
import GridCarbonIO

/// swift-configuration's JSON snapshot over the configuration file minus `alerts.rules`: the rules
/// are an array of objects, which the JSON snapshot does not take; gridcarbon reads them itself
/// (``AlertConfig``), with line numbers in its errors.
struct GridCarbonJSONSnapshot: FileConfigSnapshot {
    typealias ParsingOptions = JSONSnapshot.ParsingOptions
    let inner: JSONSnapshot

    init(data: RawSpan, providerName: String, parsingOptions: ParsingOptions) throws {
        var bytes = [UInt8](repeating: 0, count: data.byteCount)
        bytes.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in if let b = src.baseAddress, src.count > 0 { dst.baseAddress!.copyMemory(from: b, byteCount: src.count) } }
        }
        // `null` in place of the rules: JSONSnapshot skips nulls, and no second parse of a
        // document that may hold 10,000 rules is needed to take them out.
        bytes = JSONScan.nulling(bytes, at: ["alerts", "rules"])
        inner = try bytes.withUnsafeBytes { raw in
            try JSONSnapshot(data: RawSpan(_unsafeBytes: raw), providerName: providerName, parsingOptions: parsingOptions)
        }
    }

    var providerName: String { inner.providerName }
    var description: String { inner.description }
    var debugDescription: String { inner.debugDescription }

    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        try inner.value(forKey: key, type: type)
    }
}

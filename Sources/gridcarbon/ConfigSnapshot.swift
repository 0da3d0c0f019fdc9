import Configuration
import Foundation

/// swift-configuration's JSON snapshot over the configuration file minus `alerts.rules`: the rules
/// are an array of objects, which the JSON snapshot does not take; gridcarbon reads them itself
/// (``AlertConfig``), with line numbers in its errors.
struct GridCarbonJSONSnapshot: FileConfigSnapshot {
    typealias ParsingOptions = JSONSnapshot.ParsingOptions
    let inner: JSONSnapshot

    init(data: RawSpan, providerName: String, parsingOptions: ParsingOptions) throws {
        var bytes = Data(count: data.byteCount)
        bytes.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in if let b = src.baseAddress, src.count > 0 { dst.baseAddress!.copyMemory(from: b, byteCount: src.count) } }
        }
        if var object = try JSONSerialization.jsonObject(with: bytes) as? [String: Any],
           var alerts = object["alerts"] as? [String: Any] {
            alerts["rules"] = nil
            object["alerts"] = alerts
            bytes = try JSONSerialization.data(withJSONObject: object)
        }
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

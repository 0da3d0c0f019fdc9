#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GridCarbonIO

/// An alert event as read back from its NDJSON line (the alert log, the API): the fields that the
/// active set, webhooks and Alertmanager need. Times stay the strings of the line (RFC 3339 in the
/// daemon's zone).
public struct AlertRecord: Sendable, Equatable, Decodable {
    public var seq: Int64
    public var id: String
    public var rule: String
    public var kind: String
    public var severity: String
    public var state: String
    public var level: String
    public var key: String
    public var value: Double?
    public var threshold: Double?
    public var startsAt: String
    public var endsAt: String?
    public var message: String

    enum CodingKeys: String, CodingKey {
        case seq, id, rule, kind, severity, state, level, key, value, threshold, message
        case startsAt = "starts_at"
        case endsAt = "ends_at"
    }

    /// Whether the event resolves its alert.
    public var resolved: Bool { state == "resolved" }

    /// Parses one NDJSON line (newline optional); nil when it is not an alert event.
    public static func parse(_ line: [UInt8]) -> AlertRecord? {
        try? JSONDecoder().decode(AlertRecord.self, from: Data(line))
    }
}

/// Why a line was rejected (§2.2, §3). The codes are what the rejected side output and the API say.
public enum RejectReason: UInt8, CaseIterable, Sendable {
    /// The first field is not `r`, `i`, `f`, `m`, `x`, `o` or `c` (or the NDJSON `kind` is missing or unknown).
    case badKind = 1
    /// Too many or too few comma-separated fields for the kind.
    case badFieldCount
    /// A meter id that does not match `[A-Za-z0-9_.:-]{1,64}`.
    case badMeterID
    /// A well-formed meter id that the registry does not list.
    case unknownMeter
    /// A region that is not a province code (`f`, `m` and `x` records name a province, not `CN`),
    /// or an `x` record whose `from` and `to` are the same.
    case badRegion
    /// Not RFC 3339 with seconds and an offset, nor whole Unix seconds.
    case badTimestamp
    /// A number that does not parse, or is not finite (or a negative `o` value).
    case badNumber
    /// Negative energy or generation.
    case negativeEnergy
    /// `end` not after `start`.
    case badInterval
    /// An emission factor outside 0–10 kg CO2/kWh.
    case badFactor
    /// A generation source outside `coal gas oil nuclear hydro wind solar biomass other`.
    case badSource
    /// A second register reading at the same time with a different value (the first stays).
    case conflictingDuplicate
    /// An `f` record that partly overlaps an earlier one for the same region.
    case overlappingFactor
    /// A meter record more than `max_future` ahead of the wall clock.
    case futureTimestamp
    /// A line longer than the configured bound.
    case lineTooLong
    /// An NDJSON line that is not a flat JSON object of strings and numbers.
    case badJSON
    /// A meter record on the stream's grid subject, or on the subject of another partition than
    /// its meter's (§8: meter records go to their partition).
    case misrouted
    /// An `i` record that partly overlaps an interval already accepted for the same meter (§3.1).
    case overlappingInterval
    /// An `o` record whose level is not one of `national province city park enterprise industry`
    /// (reference §9.1).
    case badLevel
    /// An `o` key or `c` enterprise not matching `[A-Za-z0-9_.:-]{1,64}`, or an `o` key that does
    /// not fit its level (`national` takes `CN`, `province` a province code).
    case badKey
    /// An `o` unit not matching `[A-Za-z0-9_.:-]{1,64}` (`cny_10k`, `t`, `unit`, …).
    case badUnit
    /// A `c` instrument other than `gpt` or `gec`.
    case badInstrument

    /// The code written to side outputs and API answers.
    public var code: String {
        switch self {
        case .badKind: "bad_kind"
        case .badFieldCount: "bad_field_count"
        case .badMeterID: "bad_meter_id"
        case .unknownMeter: "unknown_meter"
        case .badRegion: "bad_region"
        case .badTimestamp: "bad_timestamp"
        case .badNumber: "bad_number"
        case .negativeEnergy: "negative_energy"
        case .badInterval: "bad_interval"
        case .badFactor: "bad_factor"
        case .badSource: "bad_source"
        case .conflictingDuplicate: "conflicting_duplicate"
        case .overlappingFactor: "overlapping_factor"
        case .futureTimestamp: "future_timestamp"
        case .lineTooLong: "line_too_long"
        case .badJSON: "bad_json"
        case .misrouted: "misrouted"
        case .overlappingInterval: "overlapping_interval"
        case .badLevel: "bad_level"
        case .badKey: "bad_key"
        case .badUnit: "bad_unit"
        case .badInstrument: "bad_instrument"
        }
    }
}

/// Anomalies a meter's register readings raise (§3.1).
public enum AnomalyKind: UInt8, Sendable, CaseIterable {
    case registerReset = 1
    case implausibleJump
    case meterGap

    public var code: String {
        switch self {
        case .registerReset: "register_reset"
        case .implausibleJump: "implausible_jump"
        case .meterGap: "meter_gap"
        }
    }
}

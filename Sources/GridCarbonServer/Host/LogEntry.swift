import GridCarbonEngine
import GridCarbonModel

/// One entry of the write-ahead log: everything that changes the engine goes through the log as one
/// of these, so a restart that replays the log takes exactly the same steps (§6).
///
/// Byte layout of each kind (little-endian; the first byte is the kind, ``Kind``):
/// - `batch` (1): `[i64 received_at][i64 now][u16 source length][source][lines]`
/// - `watermark` (3): `[i64 watermark][i64 received_at]`
/// - `rejectedLine` (4): `[i64 received_at][u8 reason][u16 source length][source][line]`: a line
///   refused before parsing (too long).
/// - `tables` (5): `[u16 basis length][basis][u32 annual length][annual CSV][source factors CSV]`:
///   factor tables reloaded (SIGHUP).
/// - `registry` (6): `[registry CSV]`: the meter registry replaced (start, SIGHUP,
///   `POST /v1/registry`; see ``Engine/replacingRegistry(with:)``). A new data folder's log starts
///   with one.
/// - `alerts` (7): `[u32 rules JSON length][rules JSON][budgets CSV]` (``AlertConfig/canonical(_:)``):
///   alert rules reloaded.
/// - `stream` (8): `[u64 stream seq][i64 received_at][i64 now][payload]`: a partition worker's
///   message from its partition subject (§8): record lines, or an idle tick `!idle <µs>\n`.
/// - `partial` (9): `[u64 stream seq][batch]`: a merger's ``PartialBatch`` from the partials stream.
/// - `grid` (10): `[u64 stream seq][i64 received_at][lines]`: a merger's grid message.
/// - `gridThrough` (11): `[u64 stream seq]`: every grid message up to it has been received.
///
/// A decoded entry points into the bytes it was read from (no copy of the lines): use it while
/// those bytes live.
enum LogEntry {
    /// The kind byte.
    enum Kind: UInt8 {
        case batch = 1
        case watermark = 3
        case rejectedLine = 4
        case tables = 5
        case registry = 6
        case alerts = 7
        case stream = 8
        case partial = 9
        case grid = 10
        case gridThrough = 11
    }

    /// Record lines as received: whole lines, each ending with a newline.
    case batch(receivedAt: Micros, now: Micros, source: String, lines: UnsafeRawBufferPointer)
    /// The watermark moved with wall time while meters were idle.
    case watermark(Micros, receivedAt: Micros)
    /// A line refused before parsing (its first bytes).
    case rejectedLine(receivedAt: Micros, reason: RejectReason, source: String, line: UnsafeRawBufferPointer)
    /// Factor tables replaced: the source-factor basis, the annual table CSV, the source table CSV.
    case tables(basis: String, annualCSV: UnsafeRawBufferPointer, sourcesCSV: UnsafeRawBufferPointer)
    /// The meter registry replaced, as CSV.
    case registry(csv: UnsafeRawBufferPointer)
    /// Alert rules replaced, in their canonical form.
    case alerts(rulesJSON: UnsafeRawBufferPointer, budgetsCSV: UnsafeRawBufferPointer)
    /// A partition worker's stream message (§8).
    case stream(seq: UInt64, receivedAt: Micros, now: Micros, payload: UnsafeRawBufferPointer)
    /// A merger's partial batch, at its sequence in the partials stream.
    case partial(seq: UInt64, batch: UnsafeRawBufferPointer)
    /// A merger's grid message, at its sequence in the records stream.
    case grid(seq: UInt64, receivedAt: Micros, lines: UnsafeRawBufferPointer)
    /// Every grid message up to this sequence has been received.
    case gridThrough(UInt64)

    /// Source names are cut to this many bytes.
    static let maxSourceBytes = 1024

    var kind: Kind {
        switch self {
        case .batch: .batch
        case .watermark: .watermark
        case .rejectedLine: .rejectedLine
        case .tables: .tables
        case .registry: .registry
        case .alerts: .alerts
        case .stream: .stream
        case .partial: .partial
        case .grid: .grid
        case .gridThrough: .gridThrough
        }
    }

    /// The entry's bytes.
    func encoded() -> [UInt8] {
        var counter = CountingSink()
        encode(into: &counter)
        var out = ByteWriter(capacity: counter.size)
        encode(into: &out)
        return out.bytes
    }

    /// Writes the entry's bytes to `out`.
    func encode<S: ByteSink>(into out: inout S) {
        out.u8(kind.rawValue)
        switch self {
        case .batch(let receivedAt, let now, let source, let lines):
            out.i64(receivedAt)
            out.i64(now)
            Self.source(source, into: &out)
            out.bytes(lines)
        case .watermark(let w, let receivedAt):
            out.i64(w)
            out.i64(receivedAt)
        case .rejectedLine(let receivedAt, let reason, let source, let line):
            out.i64(receivedAt)
            out.u8(reason.rawValue)
            Self.source(source, into: &out)
            out.bytes(line)
        case .tables(let basis, let annual, let sources):
            var b = basis
            b.withUTF8 { u in
                out.u16(UInt16(u.count))
                out.bytes(UnsafeRawBufferPointer(u))
            }
            out.u32(UInt32(annual.count))
            out.bytes(annual)
            out.bytes(sources)
        case .registry(let csv):
            out.bytes(csv)
        case .alerts(let json, let budgets):
            out.u32(UInt32(json.count))
            out.bytes(json)
            out.bytes(budgets)
        case .stream(let seq, let receivedAt, let now, let payload):
            out.u64(seq)
            out.i64(receivedAt)
            out.i64(now)
            out.bytes(payload)
        case .partial(let seq, let batch):
            out.u64(seq)
            out.bytes(batch)
        case .grid(let seq, let receivedAt, let lines):
            out.u64(seq)
            out.i64(receivedAt)
            out.bytes(lines)
        case .gridThrough(let seq):
            out.u64(seq)
        }
    }

    private static func source<S: ByteSink>(_ name: String, into out: inout S) {
        var name = name
        name.withUTF8 { u in
            let n = min(u.count, maxSourceBytes)
            out.u16(UInt16(n))
            out.bytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(u)[0..<n]))
        }
    }

    /// Reads an entry from its bytes; errors name the field that does not fit.
    init(decoding payload: UnsafeRawBufferPointer) throws(ByteCodecError) {
        var r = ByteReader(payload, context: "log entry")
        let raw = try r.u8("the entry kind")
        guard let kind = Kind(rawValue: raw) else { throw r.bad("entry kind", "unknown entry kind \(raw)") }
        r.context = "log entry \(kind)"
        switch kind {
        case .batch:
            let receivedAt = try r.i64("received_at"), now = try r.i64("now")
            let source = try r.string16("source name")
            self = .batch(receivedAt: receivedAt, now: now, source: source, lines: r.rest())
        case .watermark:
            let w = try r.i64("watermark"), receivedAt = try r.i64("received_at")
            try r.expectEnd("the watermark entry")
            self = .watermark(w, receivedAt: receivedAt)
        case .rejectedLine:
            let receivedAt = try r.i64("received_at")
            let code = try r.u8("reason")
            guard let reason = RejectReason(rawValue: code) else { throw r.bad("reason", "unknown reject reason \(code)") }
            let source = try r.string16("source name")
            self = .rejectedLine(receivedAt: receivedAt, reason: reason, source: source, line: r.rest())
        case .tables:
            let basis = try r.string16("source-factor basis")
            let annual = try r.bytes32("annual factor table")
            self = .tables(basis: basis, annualCSV: annual, sourcesCSV: r.rest())
        case .registry:
            self = .registry(csv: r.rest())
        case .alerts:
            let json = try r.bytes32("alert rules JSON")
            self = .alerts(rulesJSON: json, budgetsCSV: r.rest())
        case .stream:
            let seq = try r.u64("stream sequence"), receivedAt = try r.i64("received_at"), now = try r.i64("now")
            self = .stream(seq: seq, receivedAt: receivedAt, now: now, payload: r.rest())
        case .partial:
            let seq = try r.u64("stream sequence")
            self = .partial(seq: seq, batch: r.rest())
        case .grid:
            let seq = try r.u64("stream sequence"), receivedAt = try r.i64("received_at")
            self = .grid(seq: seq, receivedAt: receivedAt, lines: r.rest())
        case .gridThrough:
            let seq = try r.u64("stream sequence")
            try r.expectEnd("the grid-through entry")
            self = .gridThrough(seq)
        }
    }
}

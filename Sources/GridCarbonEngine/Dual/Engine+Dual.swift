import GridCarbonModel

// The dual-control records of reference §9.1 into engine state.
extension Engine {
    /// Applies an accepted `x`, `o` or `c` record. Like `f` and `m` records they may lie anywhere
    /// in time and never move the watermark.
    func applyDual(_ r: ParsedRecord) {
        switch r.kind {
        case .exchange:
            factors.addExchange(from: Int(r.region), to: Int(r.region2), start: r.t0, end: r.t1, mwh: r.value)
            acceptedByKind.exchange += 1
        case .output:
            dual.add(DualBook.Output(level: Level(rawValue: Int(r.aux))!, key: parser.names.key, start: r.t0, end: r.t1,
                                     value: r.value, unit: parser.names.unit))
            acceptedByKind.output += 1
        case .contract:
            dual.add(DualBook.Contract(enterprise: parser.names.key, start: r.t0, end: r.t1, mwh: r.value,
                                       instrument: Instrument(rawValue: Int(r.aux))!))
            acceptedByKind.contract += 1
        default:
            return
        }
        counts.accepted += 1
    }

    /// Every exchange record currently held: `(from, to, start, end, mwh)` in arrival order.
    public var exchanges: [(from: Int, to: Int, start: Micros, end: Micros, mwh: Double)] {
        factors.exchanges.map { ($0.from, $0.to, $0.start, $0.end, $0.mwh) }
    }
}

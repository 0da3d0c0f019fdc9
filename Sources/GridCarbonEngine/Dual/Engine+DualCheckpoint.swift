import GridCarbonModel

// The `DUAL` checkpoint section (version 4; EngineCheckpointFormat): the §9.1 records held.
extension Engine {
    func writeDual<O: ByteSink>(_ o: inout O) {
        o.section(EngineCheckpointFormat.dual)
        o.i64(Int64(factors.exchanges.count))
        for x in factors.exchanges {
            o.i64(Int64(x.from)); o.i64(Int64(x.to)); o.i64(x.start); o.i64(x.end); o.f64(x.mwh)
        }
        o.i64(Int64(dual.outputs.count))
        for x in dual.outputs {
            o.i64(Int64(x.level.rawValue)); o.string(x.key); o.i64(x.start); o.i64(x.end); o.f64(x.value); o.string(x.unit)
        }
        o.i64(Int64(dual.contracts.count))
        for x in dual.contracts {
            o.string(x.enterprise); o.i64(x.start); o.i64(x.end); o.f64(x.mwh); o.i64(Int64(x.instrument.rawValue))
        }
    }

    func readDual(_ r: inout ByteReader, apply: Bool) throws {
        try r.section(EngineCheckpointFormat.dual)
        var exchanges: [FactorBook.ExchangeEntry] = []
        let nx = try r.count(each: 40, "exchanges")
        exchanges.reserveCapacity(nx)
        for _ in 0..<nx {
            let from = try r.i64(), to = try r.i64(), s = try r.i64(), e = try r.i64(), v = try r.f64()
            guard (1..<Int64(Region.count)).contains(from), (1..<Int64(Region.count)).contains(to), from != to else {
                throw r.fail("exchange between regions \(from) and \(to)")
            }
            guard e > s else { throw r.fail("exchange with end before start") }
            exchanges.append(FactorBook.ExchangeEntry(from: Int(from), to: Int(to), start: s, end: e, mwh: v))
        }
        var book = DualBook()
        let no = try r.count(each: 48, "outputs")
        for _ in 0..<no {
            let lv = try r.i64("output level")
            guard let level = Level(rawValue: Int(truncatingIfNeeded: lv)), Int64(level.rawValue) == lv else { throw r.fail("output with unknown level \(lv)") }
            let key = try r.string("output key")
            let s = try r.i64(), e = try r.i64(), v = try r.f64()
            let unit = try r.string("output unit")
            guard e > s else { throw r.fail("output with end before start") }
            book.add(DualBook.Output(level: level, key: key, start: s, end: e, value: v, unit: unit))
        }
        let nc = try r.count(each: 40, "contracts")
        for _ in 0..<nc {
            let ent = try r.string("contract enterprise")
            let s = try r.i64(), e = try r.i64(), v = try r.f64(), ins = try r.i64("instrument")
            guard let instrument = Instrument(rawValue: Int(truncatingIfNeeded: ins)), Int64(instrument.rawValue) == ins else {
                throw r.fail("contract with unknown instrument \(ins)")
            }
            guard e > s else { throw r.fail("contract with end before start") }
            book.add(DualBook.Contract(enterprise: ent, start: s, end: e, mwh: v, instrument: instrument))
        }
        if apply {
            factors.setExchanges(exchanges)
            dual = book
        }
    }
}

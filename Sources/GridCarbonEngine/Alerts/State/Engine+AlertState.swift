import GridCarbonModel

extension Engine {
    /// Alert state for the engine checkpoint: the seq, the rules and budgets in force, and the
    /// evaluator's state.
    func alertState() -> [UInt8] {
        var w = AlertStateWriter()
        w.i64(alertSeq)
        if let a = alerts {
            w.i64(1)
            a.settings.encode(&w)
            a.encode(&w)
        } else {
            w.i64(0)
        }
        return w.bytes
    }

    /// Restores ``alertState()``: the rules in force when the checkpoint was taken, with their
    /// state, whatever was configured before (the log after the checkpoint replays later changes).
    func restoreAlertState(_ bytes: [UInt8], apply: Bool) throws {
        var r = AlertStateReader(bytes: bytes)
        let seq = try r.i64()
        let has = try r.i64()
        var restored: AlertEvaluator?
        if has == 1 {
            let rules = try AlertSettings.decode(&r)
            if let problem = rules.validate(engine: settings) { throw AlertStateError.corrupt("rules: \(problem)") }
            let e = AlertEvaluator(settings: rules, engine: settings, registry: registry, sink: sink)
            try e.decode(&r, apply: true)
            restored = e
        }
        guard r.at == r.bytes.count else { throw AlertStateError.corrupt("\(r.bytes.count - r.at) bytes after the alert state") }
        if apply {
            alertSeqCarry = seq
            restored?.seq = seq
            alerts = restored
            alertsTrackMeters = restored?.tracksMeters ?? false
        }
    }
}

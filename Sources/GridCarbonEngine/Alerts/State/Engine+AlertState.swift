import GridCarbonModel

extension Engine {
    /// Alert state for the engine checkpoint: the seq, the rules and budgets in force, and the
    /// evaluator's state.
    func alertState() -> [UInt8] {
        var w = ByteWriter()
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
        let (seq, restored): (Int64, AlertEvaluator?)
        do {
            (seq, restored) = try ByteReader.read(bytes, context: "alert state") { r in
                let seq = try r.i64("seq")
                let has = try r.i64("whether rules are in force")
                var restored: AlertEvaluator?
                if has == 1 {
                    let rules = try AlertSettings.decode(&r)
                    do { try rules.validate(engine: settings) } catch { throw AlertStateError.corrupt("rules: \(error)") }
                    let e = AlertEvaluator(settings: rules, engine: settings, registry: registry, sink: sink)
                    try e.decode(&r, apply: true)
                    restored = e
                }
                try r.expectEnd("the alert state")
                return (seq, restored)
            }
        } catch let e as ByteCodecError {
            throw AlertStateError.corrupt("\(e)")
        }
        if apply {
            alertSeqCarry = seq
            restored?.seq = seq
            alerts = restored
            alertsTrackMeters = restored?.tracksMeters ?? false
        }
    }
}

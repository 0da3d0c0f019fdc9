import Testing
@testable import GridCarbonEngine
@testable import GridCarbonModel

/// A stream message's payload (docs/scale-out.md, "Messages"): the end of the payload ends its
/// last line, as an MQTT device publishing one line without a newline sends it.
@Suite struct StreamPayloadTests {
    func feed(_ payloads: [String]) -> Harness {
        let h = Harness()
        let src = h.engine.source(named: "nats:gridcarbon.meter.0")
        var line: Int64 = 1
        for p in payloads {
            var text = p
            text.withUTF8 { h.engine.ingestPayload(UnsafeRawBufferPointer($0), source: src, line: &line) }
        }
        return h
    }

    @Test func aLineWithoutItsNewlineIsReadTheSame() {
        let bare = feed(["r,A,2026-11-18T10:00:00+08:00,100", "r,A,2026-11-18T10:15:00+08:00,101.5", "f,CN-GD,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,0.5"])
        let ended = feed(["r,A,2026-11-18T10:00:00+08:00,100\n", "r,A,2026-11-18T10:15:00+08:00,101.5\n", "f,CN-GD,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,0.5\n"])
        #expect(bare.engine.counts.accepted == 3)
        #expect(bare.engine.counts == ended.engine.counts)
    }

    @Test func severalLinesTheLastWithoutANewline() {
        let h = feed(["r,A,2026-11-18T10:00:00+08:00,100\nr,B,2026-11-18T10:00:00+08:00,5\nr,nobody,2026-11-18T10:00:00+08:00,1"])
        #expect(h.engine.counts.accepted == 2)
        #expect(h.engine.counts.rejected == 1)
        #expect(h.sink.rejected.count == 1)
    }
}

import GridCarbonModel

extension ByteSink {
    /// Starts a checkpoint section: its tag (``EngineCheckpointFormat``).
    @inline(__always) mutating func section(_ tag: UInt64) { u64(tag) }
}

extension ByteReader {
    /// Reads a section's tag, which must be `tag`; errors from here on name the section.
    mutating func section(_ tag: UInt64) throws(ByteCodecError) {
        let t = try u64("the tag of section \(EngineCheckpointFormat.name(tag))")
        guard t == tag else {
            throw bad("section tag", "expected section \(EngineCheckpointFormat.name(tag)) at offset \(at - 8) after \(context), found \(EngineCheckpointFormat.name(t).debugDescription)")
        }
        context = "section " + EngineCheckpointFormat.name(tag)
    }

    /// A checkpoint refused for `why`, in the section being read.
    func fail(_ why: String) -> CheckpointError { .corrupt("\(context): \(why)") }
}

extension CheckpointError {
    /// A byte-level error of a checkpoint.
    init(_ e: ByteCodecError) {
        self = .corrupt(e.code == .badValue ? e.detail : e.description)
    }
}

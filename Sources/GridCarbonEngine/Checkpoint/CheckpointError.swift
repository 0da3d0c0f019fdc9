/// Why ``Engine/restore(from:)`` refused a checkpoint.
public enum CheckpointError: Error, CustomStringConvertible, Sendable, Equatable {
    /// `restore` was called on an engine that has already taken input.
    case engineNotFresh(String)
    /// The bytes do not start with the checkpoint magic.
    case notACheckpoint
    /// Written by a newer (or unknown) format version.
    case unsupportedVersion(UInt32)
    /// Truncated, bit-flipped or otherwise malformed.
    case corrupt(String)
    /// Taken with other settings or another registry: the state would not mean the same thing here.
    case configurationMismatch(String)

    public var description: String {
        switch self {
        case .engineNotFresh(let why): return "cannot restore a checkpoint into an engine that already holds state (\(why)); restore into a freshly constructed engine"
        case .notACheckpoint: return "not a gridcarbon engine checkpoint (bad magic)"
        case .unsupportedVersion(let v): return "checkpoint format version \(v) is not supported (this build reads versions \(EngineCheckpointFormat.readable.lowerBound) to \(EngineCheckpointFormat.readable.upperBound))"
        case .corrupt(let why): return "corrupt checkpoint: \(why)"
        case .configurationMismatch(let why): return "checkpoint does not match this configuration: \(why)"
        }
    }
}

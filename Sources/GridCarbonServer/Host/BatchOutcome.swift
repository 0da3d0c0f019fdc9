import GridCarbonEngine

/// What one submitted batch did.
public struct BatchOutcome: Sendable {
    public var counts = LineCounts()
    /// The first rejections of the batch: line number within the batch (from 1), reason, line.
    public var rejections: [(line: Int64, reason: String, text: String)] = []
}

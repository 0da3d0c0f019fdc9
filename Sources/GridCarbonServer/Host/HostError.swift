import GridCarbonModel

/// Why the host cannot recover or go on: the data folder's log or checkpoints do not add up.
///
/// Codes are extensible (static members of ``Code``), as swift-service-lifecycle's errors are.
public struct HostError: CategorizedError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// A log entry that does not decode or does not apply (its tables or rules do not load).
        public static let badLogEntry = Code(name: "bad_log_entry")
        /// The checkpoint needs log segments that are gone.
        public static let missingLogSegments = Code(name: "missing_log_segments")
        public var description: String { name }
    }

    public let code: Code
    public let message: String
    public let file: String
    public let line: Int

    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    /// The data folder cannot be used as it is: bad input, exit status 1.
    public var category: FailureCategory { .badInput }
    public var description: String { message }
}

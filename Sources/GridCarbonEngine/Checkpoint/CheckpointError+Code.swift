import GridCarbonModel

// ``CheckpointError`` stays an enum (its cases carry the detail, and callers match on them);
// this gives it a ``Code`` and a ``FailureCategory`` like the project's other errors.
extension CheckpointError: CategorizedError {
    /// Which way a checkpoint was refused; extended with static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// ``CheckpointError/engineNotFresh(_:)``.
        public static let engineNotFresh = Code("engineNotFresh")
        /// ``CheckpointError/notACheckpoint``.
        public static let notACheckpoint = Code("notACheckpoint")
        /// ``CheckpointError/unsupportedVersion(_:)``.
        public static let unsupportedVersion = Code("unsupportedVersion")
        /// ``CheckpointError/corrupt(_:)``.
        public static let corrupt = Code("corrupt")
        /// ``CheckpointError/configurationMismatch(_:)``.
        public static let configurationMismatch = Code("configurationMismatch")
    }

    /// The case as a ``Code``.
    public var code: Code {
        switch self {
        case .engineNotFresh: .engineNotFresh
        case .notACheckpoint: .notACheckpoint
        case .unsupportedVersion: .unsupportedVersion
        case .corrupt: .corrupt
        case .configurationMismatch: .configurationMismatch
        }
    }

    /// A checkpoint that cannot be used is bad input data (exit status 1).
    public var category: FailureCategory { .badInput }
}

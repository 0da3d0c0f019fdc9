/// What a failure means to whoever ran gridcarbon, and so how the command line ends (reference §7).
///
/// Every error type of the project says which category it is in (``CategorizedError``); the
/// executable picks the exit status from it in one place, never from an error's text or path.
public enum FailureCategory: Sendable, Hashable {
    /// The input data could not be read or used (an input file, the registry, the data folder):
    /// exit status 1.
    case badInput
    /// The command line or the configuration is wrong: exit status 2.
    case badConfiguration

    /// The exit status of §7 for a failure of this category.
    public var exitStatus: Int32 {
        switch self {
        case .badInput: 1
        case .badConfiguration: 2
        }
    }
}

/// An error that knows its ``FailureCategory``.
///
/// Error types follow swift-service-lifecycle's `ServiceGroupError`: a struct with an extensible
/// `Code` (new codes can be added without breaking callers that switch on them), the source
/// location where it was thrown, and a message for people:
///
/// ```swift
/// public struct LogError: CategorizedError {
///     public struct Code: Hashable, Sendable, CustomStringConvertible { ... }
///     public let code: Code
///     public let message: String
///     public let file: String
///     public let line: Int
/// }
/// ```
public protocol CategorizedError: Error, CustomStringConvertible, Sendable {
    /// Decides the exit status (``FailureCategory/exitStatus``).
    var category: FailureCategory { get }
}

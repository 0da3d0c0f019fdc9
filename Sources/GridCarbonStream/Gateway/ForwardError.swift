import GridCarbonModel

/// A batch a ``StreamForwarder`` could not get stored: the client should send the lines after its
/// last acknowledgement again.
public struct ForwardError: CategorizedError {
    /// Why the batch was not stored.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The stream did not acknowledge a message of the batch in time.
        public static let notStored = Code("notStored")
        /// An earlier batch of the same client was not stored, so this one is not forwarded
        /// either (it would be stored ahead of lines that come before it).
        public static let earlierNotStored = Code("earlierNotStored")
        /// The forwarder is stopping.
        public static let stopping = Code("stopping")
    }

    public var code: Code
    public var message: String
    public var file: String
    public var line: Int

    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { message }
    public var category: FailureCategory { .badInput }
}

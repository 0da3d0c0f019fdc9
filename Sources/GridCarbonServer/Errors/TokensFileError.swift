import GridCarbonModel

/// A bearer-tokens file that cannot be used (``Authenticator/load(path:required:)``), naming the
/// line, or why it cannot be read. It is how the daemon is configured: exit status 2.
public struct TokensFileError: CategorizedError {
    /// What is wrong with the line; extended with static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Missing or unreadable.
        public static let unreadable = Code("unreadable")
        /// Not `ROLE[,ROLE] TOKEN`.
        public static let badLine = Code("badLine")
        /// A role other than ingest, read, admin.
        public static let unknownRole = Code("unknownRole")
        /// A token shorter than 16 characters.
        public static let shortToken = Code("shortToken")
    }

    public var code: Code
    /// The tokens file.
    public var path: String
    /// Why, starting with the line (`line 3: unknown role 'x' ...`).
    public var message: String
    /// Where in gridcarbon the error was made.
    public var file: String
    public var line: Int

    public init(_ code: Code, path: String, message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.path = path
        self.message = message
        self.file = file
        self.line = line
    }

    /// `path: message`.
    public var description: String { "\(path): \(message)" }
    public var category: FailureCategory { .badConfiguration }
}

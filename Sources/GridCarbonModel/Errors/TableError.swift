/// A table that cannot be used (the registry, a factor table, a registry snapshot), with the line
/// that is wrong.
///
/// `file` and `line` say where in the table the problem is; `sourceFile` and `sourceLine` say where
/// in gridcarbon it was found (swift-service-lifecycle's `ServiceGroupError` keeps the same).
public struct TableError: CategorizedError, Equatable {
    /// What is wrong with the table. New codes are added as static members, so code that compares
    /// with the existing ones keeps compiling.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The header is missing or is not the expected one.
        public static let badHeader = Code("badHeader")
        /// A row is wrong: the number of fields, or a value.
        public static let badRow = Code("badRow")
        /// A row repeats one before it (a meter listed twice, a second factor for a year).
        public static let duplicate = Code("duplicate")
        /// Something every table needs is not there (an empty table, the national factor).
        public static let incomplete = Code("incomplete")
        /// Binary table bytes (a registry snapshot) that are truncated or damaged.
        public static let corrupt = Code("corrupt")
    }

    /// What is wrong.
    public var code: Code
    /// The table's origin: a path, `embedded`, `registry snapshot`.
    public var file: String
    /// The line of the table at fault (from 1; 0 for binary tables).
    public var line: Int
    /// Why, for people.
    public var message: String
    /// Where in gridcarbon the error was made.
    public var sourceFile: String
    public var sourceLine: Int

    /// A table error; `code` defaults to ``Code/badRow``.
    public init(_ code: Code = .badRow, file: String, line: Int, message: String, sourceFile: String = #fileID, sourceLine: Int = #line) {
        self.code = code
        self.file = file
        self.line = line
        self.message = message
        self.sourceFile = sourceFile
        self.sourceLine = sourceLine
    }

    /// `file:line: message`.
    public var description: String { "\(file):\(line): \(message)" }

    /// A table that cannot be read is bad input data (exit status 1).
    public var category: FailureCategory { .badInput }

    /// Equal when the same problem is found at the same place of the same table.
    public static func == (a: TableError, b: TableError) -> Bool {
        a.code == b.code && a.file == b.file && a.line == b.line && a.message == b.message
    }
}

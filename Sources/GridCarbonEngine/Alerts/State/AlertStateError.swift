import GridCarbonModel

/// Alert state bytes in a checkpoint that do not decode.
struct AlertStateError: CategorizedError {
    /// What could not be read; extended with static members.
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        private init(_ name: String) { self.name = name }
        var description: String { name }

        /// Truncated or malformed bytes, or rules that no longer validate.
        static let corrupt = Code("corrupt")
    }

    var code: Code
    /// What could not be read.
    var message: String
    /// Where in gridcarbon the error was made.
    var file: String
    var line: Int

    /// The state's bytes are damaged where `what` was expected.
    static func corrupt(_ what: String, file: String = #fileID, line: Int = #line) -> AlertStateError {
        AlertStateError(code: .corrupt, message: what, file: file, line: line)
    }

    var description: String { "alert state: cannot read \(message)" }
    /// A damaged checkpoint is bad input data (exit status 1).
    var category: FailureCategory { .badInput }
}

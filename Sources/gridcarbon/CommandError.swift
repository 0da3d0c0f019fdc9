import GridCarbonModel

/// A command that cannot do its work on the files or daemon it was pointed at (`cat`, `alerts`,
/// `simulate --send`): bad input data, exit status 1.
struct CommandError: CategorizedError {
    /// What failed; extended with static members.
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        private init(_ name: String) { self.name = name }
        var description: String { name }

        /// The file or folder named on the command line does not exist.
        static let noSuchPath = Code("noSuchPath")
        /// A file that is there cannot be read or decoded.
        static let unreadable = Code("unreadable")
        /// The folder holds nothing the command can show.
        static let noData = Code("noData")
        /// The daemon cannot be reached, or did not acknowledge every line.
        static let daemon = Code("daemon")
    }

    var code: Code
    /// Why, for people (`out: no such file or folder`).
    var message: String
    /// Where in gridcarbon the error was made.
    var file: String
    var line: Int

    init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    var description: String { message }
    var category: FailureCategory { .badInput }
}

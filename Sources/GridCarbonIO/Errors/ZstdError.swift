import CZstd
import GridCarbonModel

/// A zstd error, with the library's own words: bytes that are not zstd (bad input data, exit
/// status 1).
public struct ZstdError: CategorizedError {
    /// What failed; extended with static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The library refused: the message is its error name.
        public static let library = Code("library")
        /// The input is not one whole zstd frame (its size unknown, cut off, trailing bytes).
        public static let badFrame = Code("badFrame")
        /// Whatever took the decompressed bytes failed; the message is its error.
        public static let consumer = Code("consumer")
        /// A frame asks for a larger window than the decompressor allows (`windowLogMax`).
        public static let windowTooLarge = Code("windowTooLarge")
    }

    public var code: Code
    /// Why, in the library's words.
    public var message: String
    /// Where in gridcarbon the error was made.
    public var file: String
    public var line: Int

    /// The library's error for return value `code`.
    init(_ code: Int, file: String = #fileID, line: Int = #line) {
        self.init(.library, message: String(cString: ZSTD_getErrorName(code)), file: file, line: line)
    }

    init(_ code: Code = .badFrame, message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { "zstd: \(message)" }
    public var category: FailureCategory { .badInput }
}

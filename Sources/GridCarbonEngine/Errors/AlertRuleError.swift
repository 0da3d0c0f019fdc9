import GridCarbonModel

/// An alert rule that cannot run with the engine's settings (``AlertSettings/validate(engine:)``):
/// a configuration problem, exit status 2.
public struct AlertRuleError: CategorizedError, Equatable {
    /// What is wrong with the rule; extended with static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The rule's name, window, level, threshold or another field does not fit the settings.
        public static let unusableRule = Code("unusableRule")
    }

    /// What is wrong.
    public var code: Code
    /// The rule at fault, by its index in the rules (from 0).
    public var ruleIndex: Int
    /// Why, naming the rule (`rule "hot": ...`).
    public var message: String
    /// Where in gridcarbon the error was made.
    public var file: String
    public var line: Int

    public init(_ code: Code = .unusableRule, ruleIndex: Int, message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.ruleIndex = ruleIndex
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { message }
    public var category: FailureCategory { .badConfiguration }

    /// Equal when the code, rule and message are.
    public static func == (a: AlertRuleError, b: AlertRuleError) -> Bool {
        a.code == b.code && a.ruleIndex == b.ruleIndex && a.message == b.message
    }
}

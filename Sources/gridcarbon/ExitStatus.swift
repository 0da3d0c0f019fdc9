import ArgumentParser
import GridCarbonIO
import GridCarbonModel

/// The one place the exit status of a failed command is chosen (reference §7): from the error's type,
/// never from its text or path. Every failure, of parsing or of a command's run, ends here with a
/// one-line reason on standard error.
///
/// | error                                   | status | standard error                                 |
/// |-----------------------------------------|--------|------------------------------------------------|
/// | ``CategorizedError``, `.badInput`       | 1      | `gridcarbon COMMAND: REASON`                   |
/// | ``CategorizedError``, `.badConfiguration` | 2    | `gridcarbon: REASON (see gridcarbon --help)`   |
/// | ArgumentParser's usage errors, any other | 2     | `gridcarbon: REASON (see gridcarbon --help)`   |
/// | `--help`, `--version`                   | 0      | the help text, on standard output              |
/// | `ExitCode`                              | its own | nothing more                                  |
enum ExitStatus {
    /// Ends the process for `error`, raised while parsing (`command` nil) or running `command`.
    static func exit(for error: any Error, command: String?) -> Never {
        switch error {
        case let code as ExitCode:
            GridCarbon.exit(withError: code)
        case let e as any CategorizedError:
            switch e.category {
            case .badInput:
                printError("gridcarbon\(command.map { " " + $0 } ?? ""): \(firstLine(e.description))\n")
            case .badConfiguration:
                printError("gridcarbon: \(firstLine(e.description)) (see gridcarbon --help)\n")
            }
            GridCarbon.exit(withError: ExitCode(e.category.exitStatus))
        default:
            if GridCarbon.exitCode(for: error) == .success { GridCarbon.exit(withError: error) }   // --help, --version
            printError("gridcarbon: \(firstLine(GridCarbon.message(for: error))) (see gridcarbon --help)\n")
            GridCarbon.exit(withError: ExitCode(FailureCategory.badConfiguration.exitStatus))
        }
    }

    static func firstLine(_ text: String) -> String {
        text.split(separator: "\n").first.map(String.init) ?? text
    }
}

/// Alert state bytes that do not decode.
enum AlertStateError: Error, CustomStringConvertible {
    case corrupt(String)
    var description: String {
        switch self { case .corrupt(let what): return "alert state: cannot read \(what)" }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libFuzzer's entry points (docs/fuzzing.md). SwiftPM links an executable's `main` to
/// `GridCarbonFuzz_main`; that hands control to libFuzzer's driver with the callback of the target
/// named by `GRIDCARBON_FUZZ_TARGET`.
typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: FuzzCallback
) -> CInt

/// The targets, by the name `scripts/fuzz.sh` passes.
let fuzzTargets: [String: (UnsafeRawBufferPointer) -> Void] = [
    "csv": FuzzCSV.run,
    "ndjson": FuzzNDJSON.run,
    "engine": FuzzEngine.run,
    "registry": FuzzRegistry.run,
    "alerts": FuzzAlerts.run,
    "wal": FuzzWAL.run,
    "checkpoint": FuzzCheckpoint.run,
]

var selectedTarget: ((UnsafeRawBufferPointer) -> Void)?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let run = selectedTarget else { return 0 }
    run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

@_cdecl("GridCarbonFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    if let dir = getenv("GRIDCARBON_FUZZ_SEEDS").map({ String(cString: $0) }) {
        do { try Seeds.write(to: dir); return 0 } catch { fputs("seeds: \(error)\n", stderr); return 1 }
    }
    let name = getenv("GRIDCARBON_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let run = fuzzTargets[name] else {
        fputs("GRIDCARBON_FUZZ_TARGET must be one of: \(fuzzTargets.keys.sorted().joined(separator: ", ")) (got \"\(name)\")\n", stderr)
        return 2
    }
    selectedTarget = run
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzTestOneInput(data, size) }
}

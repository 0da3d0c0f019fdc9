import GridCarbonModel

extension Engine {
    /// Replaces the annual and per-source factor tables (SIGHUP). Slots that close from now on use
    /// the new tables; closed slots keep what they were written with.
    public func replaceTables(annual: AnnualFactorTable, sources: SourceFactorTable) {
        factors.annual = annual
        factors.sources = sources
    }
}

/// Every `gridcarbon_*` metric family the daemon, a worker, the merger or a gateway exports, with
/// its `# HELP` text (docs/metrics.md documents each; reference §6). swift-metrics gives
/// swift-prometheus no help text, so ``withHelp(_:)`` adds a `# HELP` line before each family's
/// `# TYPE` line when `/metrics` is rendered.
public enum MetricsCatalog {
    /// Family name to help text (one line, no backslash or newline).
    public static let help: [String: String] = [
        // Ingest and engine (serve).
        "gridcarbon_records_total": "Lines taken over TCP and HTTP, by outcome (accepted, duplicate, rejected, late).",
        "gridcarbon_records_accepted_by_kind_total": "Accepted records by kind (r register, i interval, f factor, m mix, x exchange, o output, c contract).",
        "gridcarbon_open_slots": "Slots open in the engine (not yet closed by the watermark).",
        "gridcarbon_watermark_timestamp_seconds": "The engine watermark, Unix time in seconds.",
        "gridcarbon_watermark_lag_seconds": "Wall clock minus the watermark, in seconds, at the scrape.",
        "gridcarbon_registry_meters": "Meters in the registry in force.",
        "gridcarbon_wal_bytes": "Bytes of write-ahead log on disk.",
        "gridcarbon_wal_fsync_seconds": "Write-ahead log fsync (group commit) latency in seconds.",
        "gridcarbon_window_write_seconds": "Time from a slot closing to its window file renamed, in seconds.",
        "gridcarbon_window_write_recent_seconds": "p50, p99 and max of the last 10000 window writes, in seconds (stat label).",
        "gridcarbon_windows_written_total": "Windows closed and written (every length).",
        "gridcarbon_engine_queue_bytes": "Bytes of lines queued for the engine now (engine_queue_bytes bounds it).",
        "gridcarbon_engine_queue_waits_total": "Times a producer waited for room in the engine queue.",
        // Carbon (serve, merger).
        "gridcarbon_intensity_last_hour_kg_per_kwh": "CO2 intensity of the last closed hour per province, kg per kWh.",
        "gridcarbon_emissions_last_hour_kg": "CO2 of the last closed hour per province, kg.",
        "gridcarbon_energy_last_hour_kwh": "Energy of the last closed hour per province, kWh.",
        "gridcarbon_emissions_today_kg": "CO2 of the day so far per province (closed windows), kg.",
        "gridcarbon_emissions_kg_total": "CO2 of closed windows of the shortest length per province since the start, kg.",
        "gridcarbon_energy_kwh_total": "Energy of closed windows of the shortest length per province since the start, kWh.",
        // Alerts (serve, merger).
        "gridcarbon_alert_events_total": "Alert events logged, by state (firing, resolved).",
        "gridcarbon_alert_active": "Alerts firing now.",
        "gridcarbon_alert_sse_subscribers": "Clients of the alert event stream now.",
        "gridcarbon_alert_delivery_failures_total": "Failed deliveries to a webhook or Alertmanager, by target.",
        "gridcarbon_alert_delivery_lag_events": "Alert events in the log not yet delivered, by target.",
        "gridcarbon_alert_delivery_skipped_events_total": "Alert events a target never got: pruned from the log first, by target.",
        "gridcarbon_alert_log_segments_pruned_total": "Alert log segments removed by retention.",
        // Scale-out: worker.
        "gridcarbon_partition_lag_messages": "Messages of the partition not yet delivered to the worker.",
        "gridcarbon_fetch_batch_messages": "Messages per fetch from the stream.",
        "gridcarbon_redeliveries_total": "Messages delivered again by the stream.",
        "gridcarbon_stream_sequence_applied": "The stream sequence the worker applied last.",
        "gridcarbon_partial_batches_sent_total": "Partial batches sent to the merger.",
        "gridcarbon_idle_ticks_total": "Idle ticks of a partition that received nothing.",
        "gridcarbon_consumer_recreated_total": "Stream consumers found stalled and re-created.",
        // Scale-out: merger.
        "gridcarbon_merge_closed_before_timestamp_seconds": "How far a partition's batches reach, Unix time in seconds.",
        "gridcarbon_merge_partial_sequence": "The sequence of the last batch from a partition.",
        "gridcarbon_merge_partition_spread_seconds": "Between the furthest and the least advanced partition, in seconds.",
        "gridcarbon_merge_grid_through_sequence": "The grid is complete up to this stream sequence.",
        "gridcarbon_merge_pending_slots": "Slots some partition has closed and others not yet.",
        "gridcarbon_merge_duplicate_batches_total": "Partial batches received twice and dropped.",
        "gridcarbon_merge_refused_batches_total": "Partial batches refused (settings differ).",
        // Gateway.
        "gridcarbon_gateway_lines_total": "Lines through the gateway, by outcome (forwarded, rejected, failed).",
        "gridcarbon_gateway_messages_total": "Stream messages published, by outcome (stored, duplicate).",
        "gridcarbon_gateway_messages_resent_total": "Messages published again after a failure.",
        "gridcarbon_gateway_publish_failures_total": "Forwarding rounds the stream did not store.",
        "gridcarbon_gateway_rounds_total": "Forwarding rounds.",
    ]

    /// `text` (Prometheus text format) with a `# HELP name …` line before each `# TYPE name …`
    /// line of a family in ``help`` that has none.
    public static func withHelp(_ text: [UInt8]) -> [UInt8] {
        let typePrefix = Array("# TYPE ".utf8), helpPrefix = Array("# HELP ".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.count + 4096)
        var lineStart = 0
        var previousWasHelp = false
        while lineStart < text.count {
            let lineEnd = text[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? text.count
            let line = text[lineStart..<lineEnd]
            if !previousWasHelp, line.starts(with: typePrefix) {
                let rest = line.dropFirst(typePrefix.count)
                let nameEnd = rest.firstIndex(of: UInt8(ascii: " ")) ?? rest.endIndex
                if let h = help[String(decoding: rest[rest.startIndex..<nameEnd], as: UTF8.self)] {
                    out += helpPrefix
                    out += rest[rest.startIndex..<nameEnd]
                    out.append(UInt8(ascii: " "))
                    out += h.utf8
                    out.append(UInt8(ascii: "\n"))
                }
            }
            previousWasHelp = line.starts(with: helpPrefix)
            out += line
            if lineEnd < text.count { out.append(UInt8(ascii: "\n")) }
            lineStart = lineEnd + 1
        }
        return out
    }
}

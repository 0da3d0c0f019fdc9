/// The configuration file's keys. This table is the documentation: each key with what it sets and
/// its default. ``ConfigKey/all`` lists them; ``ConfigFile`` refuses any other.
extension ConfigKey {
    // MARK: Engine (§3, §7)
    public static let zone = ConfigKey("zone", "Zone windows are aligned to: a fixed offset such as +08:00, or Asia/Shanghai.", default: "Asia/Shanghai", flag: "zone")
    public static let resolution = ConfigKey("resolution", "Slot length.", default: "15m", flag: "resolution")
    public static let windows = ConfigKey("windows", "Window lengths, each a whole number of slots.", default: "15m,1h,1d", flag: "windows")
    public static let levels = ConfigKey("levels", "Levels to aggregate (national, province, city, park, enterprise, industry, meter).", default: "national,province,city,park,enterprise,industry", flag: "levels")
    public static let reorderWindow = ConfigKey("reorder_window", "How far behind the newest meter record the watermark trails.", default: "15m", flag: "reorder-window")
    public static let spanHorizon = ConfigKey("span_horizon", "How long a slot stays open after its end, for long spans.", default: "1h", flag: "span-horizon")
    public static let maxGap = ConfigKey("max_gap", "Register gaps longer than this raise a meter_gap anomaly.", default: "24h", flag: "max-gap")
    public static let maxFuture = ConfigKey("max_future", "Meter records further ahead of the wall clock are rejected.", default: "15m", flag: "max-future")

    // MARK: Tables and folders
    public static let factors = ConfigKey("factors", "Annual factor table replacing the embedded one (cn_grid_factors.csv layout).", flag: "factors")
    public static let sourceFactors = ConfigKey("source_factors", "Per-source factors replacing the embedded ones (source_factors.csv layout).", flag: "source-factors")
    public static let sourceBasis = ConfigKey("source_basis", "Which per-source factors to use: direct or lifecycle.", default: "direct", flag: "source-basis")
    public static let registry = ConfigKey("registry", "Meter registry CSV.", flag: "registry")
    public static let data = ConfigKey("data", "Data folder: aggregates, side outputs, write-ahead log, checkpoints.", default: "./gridcarbon-data", flag: "data")

    // MARK: Daemon (§6)
    public static let tcp = ConfigKey("tcp", "TCP line ingest address, HOST:PORT.", default: "127.0.0.1:7070", flag: "tcp")
    public static let http = ConfigKey("http", "HTTP API address, HOST:PORT.", default: "127.0.0.1:8080", flag: "http")
    public static let tokens = ConfigKey("tokens", "Bearer tokens file (ROLE[,ROLE] TOKEN per line); required off loopback.", flag: "tokens")
    public static let fsync = ConfigKey("fsync", "Write-ahead log fsync: batch, interval:DURATION, or never.", default: "batch", flag: "fsync")
    public static let idleTimeout = ConfigKey("idle_timeout", "Wall time without meter records after which the watermark follows the clock.", default: "60s", flag: "idle-timeout")
    public static let maxLineBytes = ConfigKey("max_line_bytes", "Longest line accepted over TCP and HTTP, in bytes (256 to 16777216).", default: "65536", flag: "max-line-bytes")
    public static let maxBodyBytes = ConfigKey("max_body_bytes", "Largest HTTP request body, in bytes (after decompression as well).", default: "268435456", flag: "max-body-bytes")
    public static let checkpointBytes = ConfigKey("checkpoint_bytes", "An engine checkpoint after this many bytes of log (1 to 2^40); older segments are then dropped.", default: "268435456", flag: "checkpoint-bytes")
    public static let walSegmentBytes = ConfigKey("wal_segment_bytes", "Write-ahead log segment size (4096 to 4294967296).", default: "67108864", flag: "wal-segment-bytes")
    public static let readTimeout = ConfigKey("read_timeout", "A TCP connection that sends nothing for this long is closed (1s to 1d).", default: "5m", flag: "read-timeout")
    public static let maxConnections = ConfigKey("max_connections", "TCP connections open at once; beyond, one error line and close (1 to 65536).", default: "1024", flag: "max-connections")

    // MARK: Alerts (§5)
    public static let alerts = ConfigKey("alerts", "Alert rules, budgets and their delivery (an object).")
    public static let alertRules = ConfigKey("alerts.rules", "Alert rules: an array of objects with the fields below.")
    public static let alertBudgets = ConfigKey("alerts.budgets", "Budgets CSV (level,key,period,budget_kg), relative to the configuration file's folder.", flag: "budgets")
    public static let alertWebhooks = ConfigKey("alerts.webhooks", "URLs every alert event is POSTed to, in order, retried until accepted.")
    public static let alertWebhookToken = ConfigKey("alerts.webhook_token", "Bearer token sent with webhook POSTs.")
    public static let alertmanager = ConfigKey("alerts.alertmanager", "Prometheus Alertmanager (an object).")
    public static let alertmanagerURL = ConfigKey("alerts.alertmanager.url", "Alertmanager base URL (POST URL/api/v2/alerts).", flag: "alertmanager")
    public static let alertmanagerResend = ConfigKey("alerts.alertmanager.resend", "How often firing alerts are sent again.", default: "1m")
    public static let alertKeepAlive = ConfigKey("alerts.keep_alive", "Server-Sent Events keep-alive interval.", default: "15s")

    // MARK: Alert rule fields (each element of alerts.rules)
    public static let ruleName = ConfigKey("alerts.rules[].name", "The rule's name, unique: 1 to 64 of A-Z a-z 0-9 _ . : -.")
    public static let ruleKind = ConfigKey("alerts.rules[].kind", "intensity, budget, forecast or data_quality.")
    public static let ruleSeverity = ConfigKey("alerts.rules[].severity", "info, warning or critical.", default: "warning")
    public static let ruleLevel = ConfigKey("alerts.rules[].level", "Intensity: the level watched (default province); budget and forecast: only budgets of this level.")
    public static let ruleKey = ConfigKey("alerts.rules[].key", "Only this key of the level.")
    public static let ruleWindow = ConfigKey("alerts.rules[].window", "The window length it evaluates, one of the configured windows (default: 1h when configured, else the shortest).")
    public static let ruleThreshold = ConfigKey("alerts.rules[].threshold", "Intensity: kg CO2/kWh; data_quality: silent meters per province.")
    public static let ruleHysteresis = ConfigKey("alerts.rules[].hysteresis", "Share below the threshold at which a firing alert resolves.", default: "0.05")
    public static let ruleWarnRatio = ConfigKey("alerts.rules[].warn_ratio", "Budget: share of the budget at which it warns.", default: "0.8")
    public static let rulePeriod = ConfigKey("alerts.rules[].period", "Budget and forecast: only budgets of this period (day, month or year).")
    public static let ruleLookback = ConfigKey("alerts.rules[].lookback", "Forecast: the trailing span of closed slots the emission rate is measured over.", default: "24h")
    public static let ruleSilentAfter = ConfigKey("alerts.rules[].silent_after", "Data quality: a meter is silent once it has sent nothing for this long (event time).", default: "1h")
    public static let ruleMaxAnomalyRate = ConfigKey("alerts.rules[].max_anomaly_rate", "Data quality: fire when anomalies per register reading in a province's window exceed this.")

    // MARK: Load bounds (§6)
    public static let maxHTTPRequests = ConfigKey("max_http_requests", "HTTP requests handled at once; beyond it 503 overloaded with Retry-After: 1.", default: "64")
    public static let engineQueueBytes = ConfigKey("engine_queue_bytes", "Bytes of lines queued for the engine (TCP and HTTP together) beyond which producers wait.", default: "67108864")
    public static let httpIdleTimeout = ConfigKey("http_idle_timeout", "HTTP slow-client bound: a request head, an idle connection, and the allowance for a body (which must then arrive at 16 KiB/s).", default: "30s")

    // MARK: Alert streams and the alert log (§5)
    public static let alertMaxSSESubscribers = ConfigKey("alerts.max_sse_subscribers", "Server-Sent Events streams open at once; one more is answered 503 too_many_subscribers.", default: "64")
    public static let alertLogSegmentBytes = ConfigKey("alerts.log_segment_bytes", "Alert log segment size: a new segment once the current one is this large, at least 4096.", default: "8388608")
    public static let alertLogMaxAge = ConfigKey("alerts.log_max_age", "Alert log segments last written longer ago are removed (a duration, or off).", default: "30d")
    public static let alertLogMaxBytes = ConfigKey("alerts.log_max_bytes", "Oldest alert log segments are removed while the log is larger (bytes, or off).", default: "1073741824")

    // MARK: Dual-control indicators (§9)
    public static let tceCoefficients = ConfigKey("tce_coefficients", "Per-year coal consumption per kWh supplied (gce/kWh) for equal-value tce, replacing the embedded table (tce_coefficients.csv layout).", flag: "tce-coefficients")

    /// Every key, in the order of the table above.
    public static let all: [ConfigKey] = [
        zone, resolution, windows, levels, reorderWindow, spanHorizon, maxGap, maxFuture,
        factors, sourceFactors, sourceBasis, registry, data,
        tcp, http, tokens, fsync, idleTimeout, maxLineBytes, maxBodyBytes, checkpointBytes, walSegmentBytes,
        alerts, alertRules, alertBudgets, alertWebhooks, alertWebhookToken, alertmanager, alertmanagerURL, alertmanagerResend, alertKeepAlive,
        ruleName, ruleKind, ruleSeverity, ruleLevel, ruleKey, ruleWindow, ruleThreshold, ruleHysteresis, ruleWarnRatio,
        rulePeriod, ruleLookback, ruleSilentAfter, ruleMaxAnomalyRate,
        readTimeout, maxConnections,
        maxHTTPRequests, engineQueueBytes, httpIdleTimeout,
        alertMaxSSESubscribers, alertLogSegmentBytes, alertLogMaxAge, alertLogMaxBytes,
        tceCoefficients,
    ]
}

import CNats

/// What ``JetStream/ensureStreams(_:partitions:replicas:)`` found or made.
public struct StreamSetup: Sendable, Equatable {
    /// The records' stream's partition count `P` (fixed at creation).
    public var partitions: Int
    /// Its replica count `R`.
    public var replicas: Int
    /// Whether this call created the records' stream.
    public var created: Bool

    public init(partitions: Int, replicas: Int, created: Bool) {
        self.partitions = partitions
        self.replicas = replicas
        self.created = created
    }
}

extension JetStream {
    /// Makes sure both streams of `layout` exist. The records' stream is created with
    /// `partitions ?? 1` partitions and `replicas` replicas when missing; when it exists, its `P`
    /// is read from its description and must equal `partitions` if one is given. The partials'
    /// stream is created alongside when missing, with the same `P` and `R`.
    /// - Throws: ``StreamError`` `.partitionsMismatch` when the stream has another `P`,
    ///   `.foreignStream` when a stream of that name was not made by gridcarbon, `.jetStream` when
    ///   JetStream refuses (not enabled, not enough servers for `R`).
    public func ensureStreams(_ layout: StreamLayout, partitions: Int?, replicas: Int) throws(StreamError) -> StreamSetup {
        if let p = partitions, p < 1 { throw StreamError(.partitionsMismatch, "partitions must be at least 1 (got \(p))") }
        var setup: StreamSetup
        if let existing = try streamInfo(layout.stream) {
            setup = try Self.setup(of: existing, asked: partitions)
        } else {
            let p = partitions ?? 1
            do throws(StreamError) {
                try addStream(name: layout.stream, subjects: layout.subjects(partitions: p), partitions: p, replicas: replicas, layout: layout)
                setup = StreamSetup(partitions: p, replicas: replicas, created: true)
            } catch let e where e.jetStreamCode == Int(JSStreamNameExistErr.rawValue) {
                // Another publisher created it between our look and our request.
                guard let existing = try streamInfo(layout.stream) else { throw e }
                setup = try Self.setup(of: existing, asked: partitions)
            }
        }
        if try streamInfo(layout.partialsStream) == nil {
            do throws(StreamError) {
                try addStream(name: layout.partialsStream, subjects: [layout.partialsSubjects], partitions: setup.partitions,
                              replicas: setup.replicas, layout: layout)
            } catch let e where e.jetStreamCode == Int(JSStreamNameExistErr.rawValue) {}
        }
        return setup
    }

    /// The setup an existing records' stream has, checked against the partition count asked for.
    static func setup(of info: StreamInfo, asked partitions: Int?) throws(StreamError) -> StreamSetup {
        guard let (p, r) = info.layout else {
            throw StreamError(.foreignStream, "stream \(info.name) exists but was not created by gridcarbon (description \"\(info.description)\")")
        }
        if let asked = partitions, asked != p {
            throw StreamError(.partitionsMismatch, "stream \(info.name) has \(p) partition\(p == 1 ? "" : "s"), fixed when it was created; --partitions \(asked) cannot change that (omit --partitions, or use another stream)")
        }
        return StreamSetup(partitions: p, replicas: r, created: false)
    }

    /// Creates a stream with file storage, `replicas` replicas, the layout's duplicate window, and
    /// `P` and `R` in its description.
    func addStream(name: String, subjects: [String], partitions: Int, replicas: Int, layout: StreamLayout) throws(StreamError) {
        var cfg = jsStreamConfig()
        jsStreamConfig_Init(&cfg)
        let (s, jerr) = name.withCString { cName in
            StreamLayout.description(partitions: partitions, replicas: replicas).withCString { cDesc in
                withCStringArray(subjects) { cSubjects in
                    cfg.Name = cName
                    cfg.Description = cDesc
                    cfg.Subjects = cSubjects
                    cfg.SubjectsLen = Int32(subjects.count)
                    cfg.Storage = js_FileStorage
                    cfg.Replicas = Int64(replicas)
                    cfg.Duplicates = Int64(layout.duplicateWindowSeconds) * 1_000_000_000
                    return call { opts, jerr in
                        var info: UnsafeMutablePointer<jsStreamInfo>?
                        defer { jsStreamInfo_Destroy(info) }
                        return js_AddStream(&info, context, &cfg, &opts, &jerr)
                    }
                }
            }
        }
        try NATSStatus.check(s, .jetStream, jetStreamCode: jerr, "cannot create stream \(name) (\(replicas) replica\(replicas == 1 ? "" : "s"))")
    }

    /// The stream's configuration and state; nil when there is no such stream.
    public func streamInfo(_ name: String) throws(StreamError) -> StreamInfo? {
        var si: UnsafeMutablePointer<jsStreamInfo>?
        let (s, jerr) = call { opts, jerr in
            jsStreamInfo_Destroy(si)
            si = nil
            return js_GetStreamInfo(&si, context, name, &opts, &jerr)
        }
        defer { jsStreamInfo_Destroy(si) }
        if s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr { return nil }
        try NATSStatus.check(s, .jetStream, jetStreamCode: jerr, "cannot read stream \(name)")
        guard let info = si?.pointee, let cfg = info.Config?.pointee else { return nil }
        var subjects: [String] = []
        for i in 0..<Int(cfg.SubjectsLen) {
            if let p = cfg.Subjects?[i] { subjects.append(String(cString: p)) }
        }
        return StreamInfo(
            name: name, description: cfg.Description.map { String(cString: $0) } ?? "", subjects: subjects,
            replicas: Int(cfg.Replicas), messages: info.State.Msgs, bytes: info.State.Bytes,
            firstSequence: info.State.FirstSeq, lastSequence: info.State.LastSeq,
            duplicateWindowSeconds: Double(cfg.Duplicates) / 1e9,
            leader: info.Cluster?.pointee.Leader.map { String(cString: $0) })
    }

    /// Deletes the stream `name` with its messages and consumers; false when there was none.
    @discardableResult
    public func deleteStream(_ name: String) throws(StreamError) -> Bool {
        let (s, jerr) = call { opts, jerr in js_DeleteStream(context, name, &opts, &jerr) }
        if s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr { return false }
        try NATSStatus.check(s, .jetStream, jetStreamCode: jerr, "cannot delete stream \(name)")
        return true
    }

    /// Deletes the durable consumer `durable` of `stream`; false when there was none.
    @discardableResult
    public func deleteConsumer(stream: String, durable: String) throws(StreamError) -> Bool {
        let (s, jerr) = call { opts, jerr in js_DeleteConsumer(context, stream, durable, &opts, &jerr) }
        if s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr { return false }
        try NATSStatus.check(s, .jetStream, jetStreamCode: jerr, "cannot delete consumer \(durable) of stream \(stream)")
        return true
    }
}

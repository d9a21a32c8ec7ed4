/// A step of a job. Pipelines name their stages in YAML, so this is an open set of strings with
/// the standard ones as constants; ``standard`` gives their canonical order.
public struct Stage: RawRepresentable, Hashable, Comparable, Codable, Sendable,
    ExpressibleByStringLiteral, CustomStringConvertible
{
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static let probe: Stage = "probe"
    public static let frames: Stage = "frames"
    public static let audio: Stage = "audio"
    public static let transcribe: Stage = "transcribe"
    public static let visual: Stage = "visual"
    public static let summarize: Stage = "summarize"
    public static let write: Stage = "write"

    /// The standard stages in the order a job runs them.
    public static let standard: [Stage] = [.probe, .frames, .audio, .transcribe, .visual, .summarize, .write]

    /// Standard stages sort by their run order; custom ones after them, by name.
    public static func < (a: Stage, b: Stage) -> Bool {
        let ia = standard.firstIndex(of: a) ?? Int.max
        let ib = standard.firstIndex(of: b) ?? Int.max
        return ia != ib ? ia < ib : a.rawValue < b.rawValue
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// The life of a job.
///
///     queued ──claim──▶ running ──complete──▶ succeeded
///        ▲                 │ fail (attempts left)      ──▶ failed ──(backoff elapses)──claim──▶ running
///        │                 │ fail (no attempts left)   ──▶ dead
///        │                 │ lease expires             ──▶ reclaimable (counts as a failed attempt)
///        └── release ──────┘ cancel (any unfinished state) ──▶ cancelled
///    retry: failed / dead / cancelled ──▶ queued (attempts reset, checkpoints kept)
///    complete(degraded:) ──▶ degraded: outputs written, but the model never gave a usable answer; the next
///        run claims it again at once, a worker after its backoff (attempts reset, the redo stages' checkpoints gone)
public enum JobState: String, Codable, Sendable, CaseIterable {
    case queued, running, failed, dead, succeeded, cancelled, degraded

    /// No process will touch the job again unless a user retries it.
    public var isTerminal: Bool { self == .succeeded || self == .dead || self == .cancelled }
}

import Engine
import Foundation
import Pipeline
import Store
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An output file of a job that the server hands out, named by kind (never by a path from the URL).
public enum OutputKind: String, CaseIterable, Sendable {
    case json, vtt, srt, jpg

    /// How `WriteStage` names the file.
    var suffix: String {
        switch self {
        case .json: ".recap.json"
        case .vtt: ".vtt"
        case .srt: ".srt"
        case .jpg: ".contact.jpg"
        }
    }

    var contentType: String {
        switch self {
        case .json: "application/json; charset=utf-8"
        case .vtt: "text/vtt; charset=utf-8"
        case .srt: "application/x-subrip; charset=utf-8"
        case .jpg: "image/jpeg"
        }
    }
}

/// One video as the pages show it: the store's job plus what its `.recap.json` says.
public struct VideoEntry: Sendable {
    public enum Status: Sendable, Equatable {
        case done
        case failed(reason: String)
        /// Outputs exist, made without a usable model answer; the next run asks again.
        case degraded(reason: String)
        case pending(JobState)
        case cancelled

        public var label: String {
            switch self {
            case .done: "done"
            case .failed: "failed"
            case .degraded: "degraded"
            case .pending(let s): s == .running ? "running" : "pending"
            case .cancelled: "cancelled"
            }
        }

        /// Why the file is not (fully) done, for the page: a failure's or a degraded file's reason.
        public var reason: String? {
            switch self {
            case .failed(let why), .degraded(let why): why
            default: nil
            }
        }
    }

    public var job: Job
    public var status: Status
    /// The model's title, else the file name.
    public var title: String
    public var duration: Double?
    public var tags: [String]
    /// The decoded `.recap.json`, for done jobs whose file is readable.
    public var output: RecapOutput?
    /// Output kinds present on disk (inside the output folder).
    public var available: Set<OutputKind>
}

/// Reads the archive: the store's jobs and each done job's outputs under `--out`. Every file it returns
/// has been resolved (symlinks followed) and checked: outputs must lie inside the output folder, media must
/// be exactly the job's recorded file (same content fingerprint).
public final class Archive: @unchecked Sendable {
    public let store: JobStore
    /// The output folder, with symlinks resolved.
    public let outRoot: String
    private let lock = NSLock()
    private var outputs: [String: (stamp: FileStat, output: RecapOutput)] = [:]
    private var verifiedMedia: [String: FileStat] = [:]

    public init(out: URL, store: JobStore) throws {
        guard let real = Self.realPath(out.path) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: out.path])
        }
        self.outRoot = real
        self.store = store
    }

    /// Every video, one per media path (the newest job of a path wins), sorted by path.
    public func entries() throws -> [VideoEntry] {
        var newest: [String: Job] = [:]
        for job in try store.jobs(limit: Int(Int32.max)) where newest[job.path] == nil { newest[job.path] = job }
        return newest.values.sorted { ($0.path, $0.id) < ($1.path, $1.id) }.map(entry)
    }

    public func entry(id: Int64) throws -> VideoEntry? {
        try store.job(id).map(entry)
    }

    func entry(_ job: Job) -> VideoEntry {
        let status: VideoEntry.Status
        switch job.state {
        case .succeeded: status = .done
        case .failed, .dead: status = .failed(reason: job.lastError ?? "no reason recorded")
        case .queued, .running: status = .pending(job.state)
        case .cancelled: status = .cancelled
        case .degraded: status = .degraded(reason: job.lastError ?? "no usable model answer")
        }
        var available = Set<OutputKind>()
        for kind in OutputKind.allCases where outputFile(job, kind) != nil { available.insert(kind) }
        let output = job.state.hasOutputs ? outputFile(job, .json).flatMap(readOutput) : nil
        let results = output?.results
        let title = results?["title"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines)
        let tags = (results?["tags"] ?? results?["hashtags"]).map(Self.strings) ?? []
        return VideoEntry(
            job: job, status: status,
            title: title.flatMap { $0.isEmpty ? nil : $0 } ?? (job.path as NSString).lastPathComponent,
            duration: output?.source.probe.durationSeconds, tags: tags, output: output, available: available)
    }

    static func strings(_ v: JSONValue) -> [String] {
        if case .array(let a) = v { return a.compactMap(\.stringValue) }
        return []
    }

    // MARK: - Files

    /// The job's output of `kind`, from the paths its result recorded, if its real path is a regular file inside
    /// the output folder.
    public func outputFile(_ job: Job, _ kind: OutputKind) -> String? {
        guard job.state.hasOutputs, let data = job.result,
              let paths = try? JSONDecoder().decode([String].self, from: data),
              let recorded = paths.first(where: { $0.hasSuffix(kind.suffix) }),
              let real = Self.realPath(recorded), real.hasPrefix(outRoot.hasSuffix("/") ? outRoot : outRoot + "/"),
              Self.regularFile(real) != nil
        else { return nil }
        return real
    }

    /// The job's original media, if its real path is a regular file whose content is the job's: the sampled
    /// fingerprint must match (checked once per file version), or for a fully hashed job at least the size.
    public func mediaFile(_ job: Job) -> String? {
        guard let real = Self.realPath(job.path), let st = Self.regularFile(real) else { return nil }
        if lock.withLock({ verifiedMedia[job.fingerprint] == st }) { return real }
        let parts = job.fingerprint.split(separator: ":")
        guard parts.count == 3, let size = Int64(parts[1]), size == st.size else { return nil }
        switch parts[0] {
        case "s1":
            guard (try? Fingerprint.of(path: real, mode: .sampled)) == job.fingerprint else { return nil }
        case "f1":
            break  // hashing every byte per request is too slow; the size and path must do
        default:
            return nil
        }
        lock.withLock { verifiedMedia[job.fingerprint] = st }
        return real
    }

    func readOutput(_ path: String) -> RecapOutput? {
        guard let st = FileStat(path: path) else { return nil }
        if let hit = lock.withLock({ outputs[path] }), hit.stamp == st { return hit.output }
        guard let data = FileManager.default.contents(atPath: path), let output = try? RecapOutput.decode(data) else { return nil }
        lock.withLock { outputs[path] = (st, output) }
        return output
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// The file's identity, or nil if it is not a regular file.
    static func regularFile(_ path: String) -> FileStat? { FileStat(path: path) }
}

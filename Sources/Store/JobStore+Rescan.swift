import Foundation
import GRDB

/// One file's outcome in a rescan.
public struct RescanItem: Sendable, Hashable {
    public enum Change: String, Sendable, Codable {
        /// (device, inode, size, mtime) as recorded: not read at all.
        case unchanged
        /// Stat changed (e.g. `touch`), content did not: fingerprinted, same fingerprint.
        case touched
        /// Content changed: a new fingerprint, so new work.
        case changed
        /// A path not seen before whose content already has a job (a moved, renamed or copied file).
        case moved
        /// A path and content not seen before.
        case new
        /// The file could not be stat'ed or read; see ``RescanItem/error``.
        case unreadable
    }

    public var path: String
    public var change: Change
    public var fingerprint: String?
    /// The job for this content and identity (nil only when unreadable).
    public var jobID: Int64?
    public var state: JobState?
    /// This rescan created the job.
    public var created: Bool
    public var error: String?

    /// The job still has work to do (queued, failed waiting for retry, running, or degraded: made without the
    /// model's answer, which is asked for again).
    public init(path: String, change: Change, fingerprint: String? = nil, jobID: Int64? = nil, state: JobState? = nil,
                created: Bool, error: String? = nil) {
        self.path = path; self.change = change; self.fingerprint = fingerprint; self.jobID = jobID
        self.state = state; self.created = created; self.error = error
    }

    /// Takes in what enqueueing this item's content found: a path seen for the first time whose content
    /// already had a job is a move (or a copy).
    public mutating func record(_ result: EnqueueResult) {
        jobID = result.jobID
        state = result.state
        created = result.created
        if !result.created && change == .new { change = .moved }
    }

    public var needsWork: Bool { state == .queued || state == .failed || state == .running || state == .degraded }
}

public struct RescanReport: Sendable {
    public var items: [RescanItem]
    /// Jobs created by this rescan.
    public var enqueued: Int { items.lazy.filter(\.created).count }
    /// Files that were fingerprinted (read) because their stat changed or they were new.
    public var fingerprinted: Int
    public init(items: [RescanItem], fingerprinted: Int) { self.items = items; self.fingerprinted = fingerprinted }
    public func count(_ change: RescanItem.Change) -> Int { items.lazy.filter { $0.change == change }.count }
    /// Distinct jobs that still need work, in scan order (a duplicate file maps to its original's job).
    public var pendingJobIDs: [Int64] {
        var seen = Set<Int64>()
        return items.compactMap { item in
            guard item.needsWork, let id = item.jobID, seen.insert(id).inserted else { return nil }
            return id
        }
    }
}

/// One path as the stat cache sees it: its content fingerprint, and whether it had to be read to know it.
public struct ScannedPath: Sendable, Hashable {
    public var path: String
    /// unchanged, touched, changed, new or unreadable (never moved: that takes the jobs to know).
    public var change: RescanItem.Change
    public var fingerprint: String?
    public var error: String?
}

extension JobStore {
    /// The stat cache alone: each path's fingerprint, read from the file only when its (device, inode, size,
    /// mtime) differs from the last scan. A host's stat cache is its own (inodes are per host), so workers on
    /// many hosts each keep theirs while they share one queue.
    public func scan(paths: [String], mode: FingerprintMode = .sampled) throws -> (paths: [ScannedPath], fingerprinted: Int) {
        var out: [ScannedPath] = []
        out.reserveCapacity(paths.count)
        var toRead: [(index: Int, stat: FileStat, cached: String?)] = []
        try read { db in
            let cacheQuery = try db.cachedStatement(sql: "SELECT device, inode, size, mtimeNs, fingerprint FROM files WHERE path = ?")
            for path in paths {
                guard let st = FileStat(path: path) else {
                    out.append(ScannedPath(path: path, change: .unreadable, error: "missing or not a regular file"))
                    continue
                }
                let cached = try Row.fetchOne(cacheQuery, arguments: [path])
                if let cached, st == FileStat(
                    device: UInt64(bitPattern: cached["device"]), inode: UInt64(bitPattern: cached["inode"]),
                    size: cached["size"], mtimeNs: cached["mtimeNs"])
                {
                    out.append(ScannedPath(path: path, change: .unchanged, fingerprint: cached["fingerprint"]))
                } else {
                    toRead.append((out.count, st, cached?["fingerprint"]))
                    out.append(ScannedPath(path: path, change: .new))
                }
            }
        }
        // Outside any transaction: read what might have changed.
        var cacheWrites: [(String, FileStat, String)] = []
        for p in toRead {
            do {
                let fp = try Fingerprint.of(path: out[p.index].path, mode: mode)
                out[p.index].fingerprint = fp
                if let old = p.cached { out[p.index].change = old == fp ? .touched : .changed }
                cacheWrites.append((out[p.index].path, p.stat, fp))
            } catch {
                out[p.index].change = .unreadable
                out[p.index].error = "\(error)"
            }
        }
        if !cacheWrites.isEmpty {
            try write { db in
                let now = now()
                let upsert = try db.cachedStatement(sql: """
                    INSERT INTO files (path, device, inode, size, mtimeNs, fingerprint, checkedAt) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (path) DO UPDATE SET device = excluded.device, inode = excluded.inode, size = excluded.size,
                      mtimeNs = excluded.mtimeNs, fingerprint = excluded.fingerprint, checkedAt = excluded.checkedAt
                    """)
                for (path, st, fp) in cacheWrites {
                    try upsert.execute(arguments: [path, Int64(bitPattern: st.device), Int64(bitPattern: st.inode), st.size, st.mtimeNs, fp, now])
                }
            }
        }
        return (out, cacheWrites.count)
    }

    /// Decides, for each file, unchanged / touched / changed / moved / new, and makes sure a job
    /// exists for its content under `identity`. Unchanged files are only `stat`ed, never read;
    /// only files whose (device, inode, size, mtime) differ from the last scan are fingerprinted.
    /// An unchanged tree costs one `stat` and two indexed lookups per file and writes nothing.
    ///
    /// Dead and cancelled jobs are not revived here (that is `recap jobs retry`). Several paths
    /// with identical content share one job.
    public func rescan(paths: [String], identity: JobIdentity, mode: FingerprintMode = .sampled, maxAttempts: Int? = nil) throws -> RescanReport {
        let (scanned, fingerprinted) = try scan(paths: paths, mode: mode)
        var items = scanned.map { RescanItem(path: $0.path, change: $0.change, fingerprint: $0.fingerprint, created: false, error: $0.error) }
        // One read: the job of each fingerprint under this identity.
        var missing: [Int] = []
        var relocate: [(Int64, String)] = []
        try read { db in
            let jobQuery = try db.cachedStatement(sql: """
                SELECT id, state, path FROM jobs WHERE fingerprint = ? AND pipeline = ? AND pipelineVersion = ? AND engine = ?
                """)
            for (index, item) in items.enumerated() {
                guard let fp = item.fingerprint else { continue }
                if let job = try Row.fetchOne(jobQuery, arguments: [fp, identity.pipeline, identity.pipelineVersion, identity.engine]) {
                    items[index].jobID = job["id"]
                    items[index].state = JobState(rawValue: job["state"])
                    let jobPath: String = job["path"]
                    // The job's file went away and its content is here now: the job follows it.
                    if jobPath != item.path && FileStat(path: jobPath) == nil { relocate.append((job["id"], item.path)) }
                    if item.change == .new { items[index].change = .moved }
                } else {
                    missing.append(index)
                }
            }
        }
        guard !missing.isEmpty || !relocate.isEmpty else { return RescanReport(items: items, fingerprinted: fingerprinted) }
        // One write: follow moves, make the missing jobs.
        try write { db in
            for (jobID, path) in relocate {
                try db.execute(sql: "UPDATE jobs SET path = ? WHERE id = ?", arguments: [path, jobID])
            }
            let requests = missing.map {
                EnqueueRequest(fingerprint: items[$0].fingerprint!, path: items[$0].path, identity: identity, maxAttempts: maxAttempts)
            }
            let results = try enqueue(db, requests, now: now())
            for (index, result) in zip(missing, results) { items[index].record(result) }
        }
        return RescanReport(items: items, fingerprinted: fingerprinted)
    }

    public func rescan(_ urls: [URL], identity: JobIdentity, mode: FingerprintMode = .sampled, maxAttempts: Int? = nil) throws -> RescanReport {
        try rescan(paths: urls.map { $0.standardizedFileURL.path }, identity: identity, mode: mode, maxAttempts: maxAttempts)
    }
}

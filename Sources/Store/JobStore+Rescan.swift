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
    public var needsWork: Bool { state == .queued || state == .failed || state == .running || state == .degraded }
}

public struct RescanReport: Sendable {
    public var items: [RescanItem]
    /// Jobs created by this rescan.
    public var enqueued: Int { items.lazy.filter(\.created).count }
    /// Files that were fingerprinted (read) because their stat changed or they were new.
    public var fingerprinted: Int
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

extension JobStore {
    /// Decides, for each file, unchanged / touched / changed / moved / new, and makes sure a job
    /// exists for its content under `identity`. Unchanged files are only `stat`ed, never read;
    /// only files whose (device, inode, size, mtime) differ from the last scan are fingerprinted.
    /// An unchanged tree costs one `stat` and two indexed lookups per file and writes nothing.
    ///
    /// Dead and cancelled jobs are not revived here (that is `recap jobs retry`). Several paths
    /// with identical content share one job.
    public func rescan(paths: [String], identity: JobIdentity, mode: FingerprintMode = .sampled, maxAttempts: Int? = nil) throws -> RescanReport {
        // 1. One read snapshot: stat each path and look it up in the stat cache and the jobs.
        struct Pending { var index: Int; var stat: FileStat; var cached: String? }
        var items: [RescanItem] = []
        items.reserveCapacity(paths.count)
        var pending: [Pending] = []
        var relocate: [(Int64, String)] = []
        try read { db in
            let cacheQuery = try db.cachedStatement(sql: "SELECT device, inode, size, mtimeNs, fingerprint FROM files WHERE path = ?")
            let jobQuery = try db.cachedStatement(sql: """
                SELECT id, state, path FROM jobs WHERE fingerprint = ? AND pipeline = ? AND pipelineVersion = ? AND engine = ?
                """)
            for (index, path) in paths.enumerated() {
                guard let st = FileStat(path: path) else {
                    items.append(RescanItem(path: path, change: .unreadable, created: false, error: "missing or not a regular file"))
                    continue
                }
                let cached = try Row.fetchOne(cacheQuery, arguments: [path])
                if let cached, st == FileStat(
                    device: UInt64(bitPattern: cached["device"]), inode: UInt64(bitPattern: cached["inode"]),
                    size: cached["size"], mtimeNs: cached["mtimeNs"])
                {
                    let fp: String = cached["fingerprint"]
                    var item = RescanItem(path: path, change: .unchanged, fingerprint: fp, created: false)
                    if let job = try Row.fetchOne(jobQuery, arguments: [fp, identity.pipeline, identity.pipelineVersion, identity.engine]) {
                        item.jobID = job["id"]
                        item.state = JobState(rawValue: job["state"])
                        let jobPath: String = job["path"]
                        if jobPath != path && FileStat(path: jobPath) == nil { relocate.append((job["id"], path)) }
                    } else {
                        pending.append(Pending(index: index, stat: st, cached: fp))  // new identity: enqueue only
                    }
                    items.append(item)
                } else {
                    items.append(RescanItem(path: path, change: .new, created: false))
                    pending.append(Pending(index: index, stat: st, cached: cached?["fingerprint"]))
                }
            }
        }
        // Every path appended exactly one item, so `items` and `paths` share indices.
        // 2. Outside any transaction: fingerprint what might have changed.
        var fingerprinted = 0
        var cacheWrites: [(String, FileStat, String)] = []
        for p in pending where items[p.index].change != .unchanged {
            do {
                let fp = try Fingerprint.of(path: paths[p.index], mode: mode)
                fingerprinted += 1
                items[p.index].fingerprint = fp
                if let old = p.cached { items[p.index].change = old == fp ? .touched : .changed }
                cacheWrites.append((paths[p.index], p.stat, fp))
            } catch {
                items[p.index].change = .unreadable
                items[p.index].error = "\(error)"
            }
        }
        let toEnqueue = pending.filter { items[$0.index].fingerprint != nil }
        guard !toEnqueue.isEmpty || !relocate.isEmpty else {
            return RescanReport(items: items, fingerprinted: fingerprinted)
        }
        // 3. One write transaction: refresh the stat cache, create or find jobs, follow moves.
        try write { db in
            let now = now()
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO files (path, device, inode, size, mtimeNs, fingerprint, checkedAt) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (path) DO UPDATE SET device = excluded.device, inode = excluded.inode, size = excluded.size,
                  mtimeNs = excluded.mtimeNs, fingerprint = excluded.fingerprint, checkedAt = excluded.checkedAt
                """)
            for (path, st, fp) in cacheWrites {
                try upsert.execute(arguments: [
                    path, Int64(bitPattern: st.device), Int64(bitPattern: st.inode), st.size, st.mtimeNs, fp, now,
                ])
            }
            for (jobID, path) in relocate {
                try db.execute(sql: "UPDATE jobs SET path = ? WHERE id = ?", arguments: [path, jobID])
            }
            let requests = toEnqueue.map {
                EnqueueRequest(fingerprint: items[$0.index].fingerprint!, path: paths[$0.index], identity: identity, maxAttempts: maxAttempts)
            }
            let results = try enqueue(db, requests, now: now)
            for (p, result) in zip(toEnqueue, results) {
                items[p.index].jobID = result.jobID
                items[p.index].state = result.state
                items[p.index].created = result.created
                if !result.created && items[p.index].change == .new { items[p.index].change = .moved }
            }
        }
        return RescanReport(items: items, fingerprinted: fingerprinted)
    }

    public func rescan(_ urls: [URL], identity: JobIdentity, mode: FingerprintMode = .sampled, maxAttempts: Int? = nil) throws -> RescanReport {
        try rescan(paths: urls.map { $0.standardizedFileURL.path }, identity: identity, mode: mode, maxAttempts: maxAttempts)
    }
}

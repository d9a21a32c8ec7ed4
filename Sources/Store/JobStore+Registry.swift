import Foundation
import GRDB

/// Worker liveness and retention: what an operator of a long-running queue needs beyond the state machine.
extension JobStore {
    public func registerWorker(name: String, host: String, pid: Int) throws -> Int64 {
        try write { db in
            let now = now()
            // AUTOINCREMENT (not a plain rowid): an id is never reused, even after the newest row is pruned.
            try db.execute(
                sql: """
                    INSERT INTO workers (name, host, pid, startedAt, lastHeartbeat, jobsDone, failures)
                    VALUES (?, ?, ?, ?, ?, 0, 0)
                    """, arguments: [name, host, pid, now, now])
            return db.lastInsertedRowID
        }
    }

    public func workerHeartbeat(_ id: Int64, jobsDone: Int, failures: Int) throws {
        try writeStatement { db in
            try db.execute(
                sql: "UPDATE workers SET lastHeartbeat = ?, jobsDone = ?, failures = ? WHERE id = ?",
                arguments: [now(), jobsDone, failures, id])
        }
    }

    public func workers() throws -> [WorkerRecord] {
        try read { db in try WorkerRecord.fetchAll(db, sql: "SELECT * FROM workers ORDER BY lastHeartbeat DESC, id DESC") }
    }

    @discardableResult
    public func pruneFinished(olderThan horizon: TimeInterval, states: Set<JobState>) throws -> Int {
        let finished = states.filter(\.isTerminal).map(\.rawValue).sorted()
        return try write { db in
            let cutoff = now() - horizon
            // Stages, attempts, engine calls and search rows go with their job (ON DELETE CASCADE).
            try db.execute(
                sql: "DELETE FROM jobs WHERE state IN (SELECT value FROM json_each(?)) AND finishedAt < ?",
                arguments: [String(decoding: try JSONEncoder().encode(finished), as: UTF8.self), cutoff])
            let pruned = db.changesCount
            try db.execute(sql: "DELETE FROM workers WHERE lastHeartbeat < ?", arguments: [cutoff])
            return pruned
        }
    }

    @discardableResult
    public func compactSucceeded(olderThan horizon: TimeInterval) throws -> Int {
        try write { db in
            let cutoff = now() - horizon
            let old = "SELECT id FROM jobs WHERE state = 'succeeded' AND finishedAt < ?"
            let touched = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM (\(old)) j WHERE EXISTS (SELECT 1 FROM stages WHERE jobId = j.id AND result IS NOT NULL)
                  OR EXISTS (SELECT 1 FROM attempts WHERE jobId = j.id AND outcome != 'succeeded')
                """, arguments: [cutoff]) ?? 0
            try db.execute(sql: "UPDATE stages SET result = NULL WHERE result IS NOT NULL AND jobId IN (\(old))", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM attempts WHERE outcome != 'succeeded' AND jobId IN (\(old))", arguments: [cutoff])
            return touched
        }
    }
}

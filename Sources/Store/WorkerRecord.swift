import Foundation
import GRDB

/// A worker process as the registry knows it: who it is, and when it last said it was alive.
///
/// Its id comes from the store (AUTOINCREMENT in SQLite, a sequence in PostgreSQL) and is never handed out
/// twice, so a worker that restarts on the same host with the same name and even the same pid is a new row,
/// and nothing the old one left behind is mistaken for the new one's (Oban #862).
public struct WorkerRecord: Sendable, Hashable, Identifiable {
    public var id: Int64
    public var name: String
    public var host: String
    public var pid: Int
    public var startedAt: Date
    public var lastHeartbeat: Date
    public var jobsDone: Int
    public var failures: Int

    public init(
        id: Int64, name: String, host: String, pid: Int, startedAt: Date, lastHeartbeat: Date, jobsDone: Int, failures: Int
    ) {
        self.id = id
        self.name = name
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.lastHeartbeat = lastHeartbeat
        self.jobsDone = jobsDone
        self.failures = failures
    }
}

extension WorkerRecord: FetchableRecord {
    public init(row: Row) throws {
        self.init(
            id: row["id"], name: row["name"], host: row["host"], pid: row["pid"],
            startedAt: Date(timeIntervalSince1970: row["startedAt"]),
            lastHeartbeat: Date(timeIntervalSince1970: row["lastHeartbeat"]),
            jobsDone: row["jobsDone"], failures: row["failures"])
    }
}

import Foundation
import PostgresNIO
import Store

// The store's records built from PostgreSQL rows, by column name. Results are JSON kept as text, as in SQLite.

extension Job {
    init(_ row: PostgresRow) throws {
        let r = row.makeRandomAccess()
        self.init(
            id: try r["id"].decode(Int64.self),
            fingerprint: try r["fingerprint"].decode(String.self),
            identity: JobIdentity(
                pipeline: try r["pipeline"].decode(String.self),
                pipelineVersion: try r["pipeline_version"].decode(String.self),
                engine: try r["engine"].decode(String.self)),
            path: try r["path"].decode(String.self),
            state: JobState(rawValue: try r["state"].decode(String.self)) ?? .queued,
            attempts: Int(try r["attempts"].decode(Int64.self)),
            maxAttempts: Int(try r["max_attempts"].decode(Int64.self)),
            notBefore: try r["not_before"].decode(Date.self),
            leaseOwner: try r["lease_owner"].decode(String?.self),
            leaseExpiresAt: try r["lease_expires_at"].decode(Date?.self),
            createdAt: try r["created_at"].decode(Date.self),
            updatedAt: try r["updated_at"].decode(Date.self),
            finishedAt: try r["finished_at"].decode(Date?.self),
            result: try r["result"].decode(String?.self).map { Data($0.utf8) },
            lastError: try r["last_error"].decode(String?.self))
    }
}

extension Checkpoint {
    init(_ row: PostgresRow) throws {
        let r = row.makeRandomAccess()
        self.init(
            stage: Stage(rawValue: try r["stage"].decode(String.self)),
            result: try r["result"].decode(String?.self).map { Data($0.utf8) },
            fileRef: try r["file_ref"].decode(String?.self),
            startedAt: try r["started_at"].decode(Date.self),
            finishedAt: try r["finished_at"].decode(Date.self),
            attempt: Int(try r["attempt"].decode(Int64.self)))
    }

    static func byStage(_ rows: [PostgresRow]) throws -> [Stage: Checkpoint] {
        let all = try rows.map(Checkpoint.init)
        return Dictionary(all.map { ($0.stage, $0) }, uniquingKeysWith: { a, _ in a })
    }
}

extension Attempt {
    init(_ row: PostgresRow) throws {
        let r = row.makeRandomAccess()
        self.init(
            id: try r["id"].decode(Int64.self),
            number: Int(try r["number"].decode(Int64.self)),
            owner: try r["owner"].decode(String.self),
            startedAt: try r["started_at"].decode(Date.self),
            endedAt: try r["ended_at"].decode(Date?.self),
            outcome: AttemptOutcome(rawValue: try r["outcome"].decode(String.self)) ?? .failed,
            stage: try r["stage"].decode(String?.self).map(Stage.init(rawValue:)),
            message: try r["message"].decode(String?.self))
    }
}

extension WorkerRecord {
    init(_ row: PostgresRow) throws {
        let r = row.makeRandomAccess()
        self.init(
            id: try r["id"].decode(Int64.self),
            name: try r["name"].decode(String.self),
            host: try r["host"].decode(String.self),
            pid: Int(try r["pid"].decode(Int64.self)),
            startedAt: try r["started_at"].decode(Date.self),
            lastHeartbeat: try r["last_heartbeat"].decode(Date.self),
            jobsDone: Int(try r["jobs_done"].decode(Int64.self)),
            failures: Int(try r["failures"].decode(Int64.self)))
    }
}

extension Data {
    /// Results are stored as text, like the SQLite store (JSON is UTF-8).
    var text: String { String(decoding: self, as: UTF8.self) }
}

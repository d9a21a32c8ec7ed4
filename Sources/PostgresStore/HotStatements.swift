import Foundation
import PostgresNIO

// The three statements every job runs (claim, checkpoint, complete) as named prepared statements: each
// connection parses and plans them once instead of on every call, which is most of the server's work for
// statements this small. Parameter types are spelled out so the server never has to guess them.
// A migration that changes the jobs table's columns must bump the names' version suffix: a statement prepared
// with `j.*` under the old columns would fail ("cached plan must not change result type") on live connections.

/// Claims the oldest ready job unless a lease has expired (see `claimReady`). Returns one row: `rescue`, then
/// the job's columns, `attempt_id` and `checkpoints` (all NULL when no job was taken).
struct ClaimReadyStatement: PostgresPreparedStatement {
    static let name = "recap_claim_ready_v1"
    static let sql = """
        WITH expired AS (
          SELECT 1 FROM jobs WHERE $1::bool AND state = 'running' AND lease_expires_at <= now()
            AND ($2::text IS NULL OR (pipeline = $2::text AND pipeline_version = $3::text AND engine = $4::text))
          LIMIT 1
        ), next AS (
          SELECT id FROM jobs WHERE state IN ('queued','failed','degraded') AND not_before <= now()
            AND ($2::text IS NULL OR (pipeline = $2::text AND pipeline_version = $3::text AND engine = $4::text))
            AND NOT EXISTS (SELECT 1 FROM expired)
          ORDER BY not_before, id LIMIT 1 FOR UPDATE SKIP LOCKED
        ), taken AS (
          UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, lease_owner = $5::text, lease_token = $6::bigint,
            lease_expires_at = now() + make_interval(secs => $7::float8), updated_at = now()
          FROM next WHERE j.id = next.id
          RETURNING j.*
        ), attempt AS (
          INSERT INTO attempts (job_id, number, owner, started_at, outcome)
          SELECT id, attempts, $5::text, now(), 'running' FROM taken RETURNING id
        )
        SELECT EXISTS (SELECT 1 FROM expired) AS rescue, t.*
        FROM (SELECT 1) AS one LEFT JOIN (
          SELECT taken.*, attempt.id AS attempt_id, \(PostgresJobStore.checkpointsJSON) FROM taken, attempt
        ) AS t ON true
        """
    static let bindingDataTypes: [PostgresDataType] = [.bool, .text, .text, .text, .text, .int8, .float8]

    var expiredFirst: Bool
    var filter: IdentityFilter
    var owner: String
    var token: Int64
    var ttl: Double

    func makeBindings() throws -> PostgresBindings {
        var b = PostgresBindings(capacity: 7)
        b.append(expiredFirst)
        b.append(filter.pipeline)
        b.append(filter.version)
        b.append(filter.engine)
        b.append(owner)
        b.append(token)
        b.append(ttl)
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// Saves a stage's result if the lease holds; one row back when it did.
struct CheckpointStatement: PostgresPreparedStatement {
    static let name = "recap_checkpoint_v1"
    static let sql = """
        INSERT INTO stages (job_id, stage, result, file_ref, started_at, finished_at, attempt)
        SELECT id, $2::text, $3::text, $4::text, COALESCE($5::timestamptz, now()), now(), $6::bigint
        FROM jobs WHERE id = $1::bigint AND lease_token = $7::bigint AND state = 'running' FOR SHARE
        ON CONFLICT (job_id, stage) DO UPDATE SET result = excluded.result, file_ref = excluded.file_ref,
          started_at = excluded.started_at, finished_at = excluded.finished_at, attempt = excluded.attempt
        RETURNING 1
        """
    static let bindingDataTypes: [PostgresDataType] = [.int8, .text, .text, .text, .timestamptz, .int8, .int8]

    var jobID: Int64
    var stage: String
    var result: String?
    var fileRef: String?
    var startedAt: Date?
    var attempt: Int64
    var token: Int64

    func makeBindings() throws -> PostgresBindings {
        var b = PostgresBindings(capacity: 7)
        b.append(jobID)
        b.append(stage)
        b.append(result)
        b.append(fileRef)
        b.append(startedAt)
        b.append(attempt)
        b.append(token)
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> Int32 { try row.decode(Int32.self) }
}

/// Marks the job succeeded and closes its attempt if the lease holds; one row back when it did.
struct CompleteStatement: PostgresPreparedStatement {
    static let name = "recap_complete_v1"
    static let sql = """
        WITH done AS (
          UPDATE jobs SET state = 'succeeded', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
            updated_at = now(), finished_at = now(), result = $1::text, last_error = NULL
          WHERE id = $2::bigint AND lease_token = $3::bigint AND state = 'running' RETURNING id
        ), closed AS (
          UPDATE attempts SET ended_at = now(), outcome = 'succeeded' WHERE id = $4::bigint AND EXISTS (SELECT 1 FROM done)
        )
        SELECT id FROM done
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .int8, .int8, .int8]

    var result: String?
    var jobID: Int64
    var token: Int64
    var attemptID: Int64

    func makeBindings() throws -> PostgresBindings {
        var b = PostgresBindings(capacity: 4)
        b.append(result)
        b.append(jobID)
        b.append(token)
        b.append(attemptID)
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

extension PostgresJobStore {
    /// Runs a prepared statement on a pooled connection and collects its rows.
    func run<S: PostgresPreparedStatement>(_ statement: S) async throws -> [S.Row] where S.Row: Sendable {
        let client = self.client, logger = self.logger
        do {
            return try await answered(by: client) {
                var rows: [S.Row] = []
                for try await row in try await client.execute(statement, logger: logger) { rows.append(row) }
                return rows
            }
        } catch {
            throw map(error, from: client)
        }
    }
}

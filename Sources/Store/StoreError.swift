import Foundation

/// Every way the job store can refuse. Each message names the store file (or job), the cause,
/// and what to do next, because these end up on stderr of a cron job that nobody watches live.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The file exists but is not a Recap store (another program's SQLite file, or not SQLite at all).
    case notAStore(path: String, detail: String)
    /// The file looks like a Recap store but SQLite reports damage.
    case corrupt(path: String, detail: String)
    /// The store was written by a newer Recap with migrations this build does not know.
    case newerSchema(path: String, unknownMigrations: [String])
    /// The store file, its folder, or the file system is read-only.
    case readOnly(path: String, detail: String)
    /// `open(create: false)` and there is no store at that path.
    case missing(path: String)
    /// The caller no longer owns the job's lease: it expired and was re-claimed, or the job was
    /// cancelled or finished. The caller must drop the job's work without writing anything.
    case leaseLost(jobID: Int64, detail: String)
    case jobNotFound(jobID: Int64)
    /// The action does not apply to the job's current state (e.g. cancelling a finished job).
    case invalidTransition(jobID: Int64, from: JobState, action: String)
    /// SQLITE_BUSY persisted through the busy timeout and every retry (another process held the
    /// write lock for a very long time).
    case busy(path: String, waited: TimeInterval)
    /// A media file could not be read for fingerprinting.
    case unreadable(path: String, detail: String)
    /// Any other SQLite error, with its message.
    case database(path: String, detail: String)

    public var description: String {
        switch self {
        case .notAStore(let path, let detail):
            return "\(path) is not a Recap job store (\(detail)). Recap never overwrites it; "
                + "pass a different --store FILE or set RECAP_STORE."
        case .corrupt(let path, let detail):
            return "The job store \(path) is damaged (\(detail)). Recap will not modify it; move it aside "
                + "(e.g. `mv \(path) \(path).broken`) and run again to start a fresh store."
        case .newerSchema(let path, let unknown):
            return "The job store \(path) was written by a newer Recap (unknown migrations: "
                + "\(unknown.joined(separator: ", "))). Upgrade recap, or use a different --store FILE."
        case .readOnly(let path, let detail):
            return "The job store \(path) cannot be written: \(detail). Make it writable, "
                + "or pass --store FILE / set RECAP_STORE to a writable location."
        case .missing(let path):
            return "There is no job store at \(path). Run `recap run` first, or pass --store FILE "
                + "(or set RECAP_STORE) to point at an existing store."
        case .leaseLost(let jobID, let detail):
            return "Job \(jobID): this process no longer holds its lease (\(detail)); its work was dropped."
        case .jobNotFound(let jobID):
            return "There is no job \(jobID) in the store. `recap jobs list` shows the jobs."
        case .invalidTransition(let jobID, let from, let action):
            return "Job \(jobID) is \(from.rawValue); it cannot be \(action)."
        case .busy(let path, let waited):
            return "The job store \(path) stayed locked by another process for \(Int(waited)) s. "
                + "Check for a hung recap process (`recap status`), then run again."
        case .unreadable(let path, let detail):
            return "Cannot read \(path) to fingerprint it: \(detail)."
        case .database(let path, let detail):
            return "\(path.contains("://") ? "Database" : "SQLite") error on the job store \(path): \(detail)."
        }
    }

    public var errorDescription: String? { description }
}

extension StoreError {
    /// Why a lease no longer holds, told from the job as it is now. Shared by every ``JobQueue`` so a worker sees
    /// the same message whichever store it runs on.
    public static func leaseLost(jobID: Int64, state: JobState, owner: String?) -> StoreError {
        switch state {
        case .running: return .leaseLost(jobID: jobID, detail: "its lease expired and \(owner ?? "another process") took the job over")
        case .cancelled: return .leaseLost(jobID: jobID, detail: "the job was cancelled")
        default: return .leaseLost(jobID: jobID, detail: "the job is now \(state.rawValue)")
        }
    }
}

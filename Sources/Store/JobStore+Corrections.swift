import Foundation
import GRDB

/// A person's correction of one field of a job's result ("title", "summary", "posts/0/text").
public struct Correction: Sendable, Hashable, Codable {
    public var jobID: Int64
    /// The field's path in the result, `/`-separated (array items by index).
    public var field: String
    public var value: String
    /// What the model had written there, as it was when corrected.
    public var original: String?
    public var createdAt: Double
}

public enum CorrectionError: Error, CustomStringConvertible {
    case noSuchJob(Int64)
    case badField(String)
    case empty(String)
    public var description: String {
        switch self {
        case .noSuchJob(let id): return "job \(id) does not exist"
        case .badField(let f): return "\"\(f)\" is not a field path (letters, digits, _ and / only, at most 100 characters)"
        case .empty(let f): return "the correction of \(f) is empty"
        }
    }
}

extension JobStore {
    /// Records a correction. Every correction is kept (the history of a field); the latest is the one in force.
    public func addCorrection(jobID: Int64, field: String, value: String, original: String?) throws {
        guard field.count <= 100, !field.isEmpty,
              field.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "/") }) else {
            throw CorrectionError.badField(field)
        }
        let text = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw CorrectionError.empty(field) }
        try write { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM jobs WHERE id = ?", arguments: [jobID]) != nil else {
                throw CorrectionError.noSuchJob(jobID)
            }
            try db.execute(sql: "INSERT INTO corrections (jobId, field, value, original, createdAt) VALUES (?, ?, ?, ?, ?)",
                           arguments: [jobID, field, text, original, now()])
        }
    }

    /// The corrections in force for a job: the latest per field.
    public func corrections(jobID: Int64) throws -> [Correction] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.* FROM corrections c WHERE c.jobId = ? AND c.id = (
                  SELECT MAX(id) FROM corrections WHERE jobId = c.jobId AND field = c.field)
                ORDER BY c.field
                """, arguments: [jobID]).map(Self.correction)
        }
    }

    /// Jobs with at least one correction, oldest first.
    public func correctedJobIDs() throws -> [Int64] {
        try read { db in try Int64.fetchAll(db, sql: "SELECT DISTINCT jobId FROM corrections ORDER BY jobId") }
    }

    private static func correction(_ row: Row) -> Correction {
        Correction(jobID: row["jobId"], field: row["field"], value: row["value"], original: row["original"], createdAt: row["createdAt"])
    }
}

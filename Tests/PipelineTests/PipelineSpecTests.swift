import Foundation
import Testing
@testable import Pipeline

@Suite struct PipelineSpecTests {
    @Test(arguments: ["summarize", "social", "archive-index"])
    func shippedPipelinesLoad(name: String) throws {
        let spec = try loadBuiltin(name)
        #expect(spec.name == name)
        #expect(spec.version >= 1)
        #expect(spec.stages.first == .probe && spec.stages.last == .write)
        #expect(spec.resultSchema["type"]?.stringValue == "object")
        // Every template only uses known inputs (the loader enforces it; this proves the shipped files pass).
        for name in PromptTemplate.placeholders(in: spec.reducePrompt.template) {
            #expect(PipelineSpec.templateInputs.contains(name))
        }
    }

    @Test func socialCarriesRealPlatformLimits() throws {
        let spec = try loadBuiltin("social")
        let props = try #require(spec.resultSchema["properties"]?.objectValue)
        #expect(props["short_caption"]?["maxLength"]?.doubleValue == 150)
        #expect(props["hashtags"]?["maxItems"]?.doubleValue == 5)
        #expect(props["alt_text"] != nil && props["cover_frame_time"] != nil)
        let x = spec.limits.first { $0.path == "posts[platform=x].caption" }
        #expect(x?.maxChars == 280)
    }

    func error(_ yaml: String) -> PipelineSpecError? {
        do { _ = try PipelineSpec.parse(yaml: yaml, source: "mine.yaml"); return nil } catch let e as PipelineSpecError { return e } catch { return nil }
    }

    static let valid = """
        name: mine
        version: 2
        prompts:
          reduce:
            template: "Summarize {transcript}"
        output:
          schema:
            type: object
            properties:
              title: {type: string, maxLength: 50}
        """

    @Test func minimalUserPipelineWorks() throws {
        let spec = try PipelineSpec.parse(yaml: Self.valid, source: "mine.yaml")
        #expect(spec.name == "mine" && spec.version == 2)
        #expect(spec.stages == PipelineSpec.Stage.allCases)
        #expect(spec.resultSchema["properties"]?["title"]?["maxLength"]?.doubleValue == 50)
        #expect(spec.frames.strategy == .scenes)
    }

    @Test func brokenFilesNameFileLineAndProblem() throws {
        let badStrategy = Self.valid + "\nframes:\n  strategy: scene\n"
        let e1 = try #require(error(badStrategy))
        #expect(e1.file == "mine.yaml")
        #expect(e1.line == 12)
        #expect(e1.message.contains("frames.strategy") && e1.message.contains("scenes"))
        #expect(e1.description.hasPrefix("mine.yaml:12:"))

        let badPlaceholder = Self.valid.replacingOccurrences(of: "{transcript}", with: "{transcrip}")
        let e2 = try #require(error(badPlaceholder))
        #expect(e2.line == 5)
        #expect(e2.message.contains("{transcrip}"))

        let unknownKey = Self.valid + "\nfrmes:\n  strategy: scenes\n"
        let e3 = try #require(error(unknownKey))
        #expect(e3.line == 11 && e3.message.contains("frmes"))

        let syntax = "name: [unclosed\nversion: 1\n"
        let e4 = try #require(error(syntax))
        #expect(e4.line != nil && e4.message.hasPrefix("YAML syntax"))

        let noReduce = Self.valid.replacingOccurrences(of: "  reduce:", with: "  mapp:")
        #expect(error(noReduce)?.message.contains("mapp") == true)

        let badNumber = Self.valid + "\nframes:\n  max_frames: lots\n"
        let e6 = try #require(error(badNumber))
        #expect(e6.line == 12 && e6.message.contains("whole number"))

        #expect(error("")?.message.contains("empty") == true)
        #expect(error(Self.valid.replacingOccurrences(of: "type: object\n", with: "type: array\n"))?.message.contains("object schema") == true)
    }

    @Test func userFileLoadsFromDiskAndMissingFileSaysSo() throws {
        let dir = try tempDir()
        let url = dir.appendingPathComponent("mine.yaml")
        try Self.valid.write(to: url, atomically: true, encoding: .utf8)
        #expect(try PipelineLibrary.resolve(url.path).name == "mine")
        #expect(throws: PipelineSpecError.self) { try PipelineLibrary.resolve(dir.appendingPathComponent("nope.yaml").path) }
    }

    @Test func templatesRenderNamedInputs() {
        let t = "A {transcript} B {ocr} {{literal}} {unknown_input}"
        #expect(PromptTemplate.placeholders(in: t) == ["transcript", "ocr", "unknown_input"])
        let out = PromptTemplate.render(t, inputs: ["transcript": "hello", "ocr": ""])
        #expect(out == "A hello B (none) {literal} (none)")
    }
}

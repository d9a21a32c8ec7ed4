import Foundation
import Media
import Testing
@testable import Engine

/// OCR on real frames: Media samples samples/narrated.mp4, Tesseract reads its grayscale pixels.
@Suite struct OCRTests {
    static let narrated = Fixtures.repoRoot.appendingPathComponent("samples/narrated.mp4")

    /// The expected title and scene times come from the sample's own description (samples/narrated.json).
    static func onScreenText() throws -> (text: String, start: Double, end: Double) {
        let meta = try JSONValue.parse(Data(contentsOf: Fixtures.repoRoot.appendingPathComponent("samples/narrated.json")))
        let first = try #require(meta["onScreenText"]?[0])
        return (try #require(first["text"]?.stringValue), try #require(first["start"]?.doubleValue),
                try #require(first["end"]?.doubleValue))
    }

    @Test func readsTheTitleCardOfTheNarratedSample() throws {
        let expected = try Self.onScreenText()
        let sampling = try FrameSampler.sample(url: Self.narrated, strategy: .every(seconds: 4))
        let titleFrame = try #require(sampling.frames.first { $0.time > expected.start && $0.time < expected.end })
        let recognizer = try TextRecognizer()
        let result = try recognizer.recognize(try titleFrame.grayscale())
        for word in expected.text.split(separator: " ") {
            #expect(result.text.uppercased().contains(word), "OCR read \(result.text.debugDescription)")
        }
        #expect(result.confidence >= 60)
        // The same frame decoded from its JPEG by Leptonica reads the same.
        #expect(try recognizer.recognize(jpeg: titleFrame.jpeg).text.uppercased().contains(expected.text))
    }

    @Test func patternsAndGradientsGiveNoInventedText() throws {
        let expected = try Self.onScreenText()
        let sampling = try FrameSampler.sample(url: Self.narrated, strategy: .every(seconds: 4))
        let recognizer = try TextRecognizer()
        // The last scene is moving gradients only.
        let gradient = try #require(sampling.frames.last { $0.time >= 24 })
        #expect(gradient.time > expected.end)
        let text = try recognizer.recognize(try gradient.grayscale()).text
        #expect(text.count <= 3, "OCR invented \(text.debugDescription) from a gradient")
    }

    @Test func textCardRoundTripsThroughOCR() throws {
        let jpeg = try TextCard.jpeg("RECAP CHECK 42")
        let text = try TextRecognizer().recognize(jpeg: jpeg).text
        #expect(text.contains("RECAP") && text.contains("42"), "OCR read \(text.debugDescription)")
    }

    @Test func frameFactsFromMediaAreLabelledAsMeasurements() throws {
        let sampling = try FrameSampler.sample(url: Self.narrated, strategy: .count(2))
        let frame = try #require(sampling.frames.first)
        let image = EngineImage(frame: frame, label: "Scene 1")
        let facts = try #require(image.facts)
        #expect(facts.brightness == frame.facts.brightness)
        let line = EvidenceText.pixels(facts, time: image.time)
        #expect(line.hasPrefix("[PIXELS] frame at 0:"))
        #expect(line.contains("brightness"))
        #expect(!line.lowercased().contains("shows"))
    }
}

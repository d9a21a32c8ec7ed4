import Foundation
import Media

// Building request parts from what Media produces.

extension FrameFacts {
    /// Media's pixel measurements, as the engine labels them (colour names, most common first).
    public init(_ facts: PixelFacts) {
        self.init(brightness: facts.brightness, dominantColors: facts.dominantColors.map(\.name),
                  motion: facts.motion, sceneScore: facts.sceneChange, other: ["contrast": facts.contrast])
    }
}

extension EngineImage {
    /// A sampled frame: its JPEG, time and pixel facts. Pass `gray` (e.g. `try frame.grayscale()`) when you
    /// already have it, and `ocrText` when you already ran OCR, so the local engine does not redo either.
    public init(frame: SampledFrame, label: String? = nil, gray: GrayImage? = nil, ocrText: String? = nil) {
        self.init(jpeg: frame.jpeg, time: frame.time, label: label, gray: gray, facts: FrameFacts(frame.facts),
                  ocrText: ocrText)
    }
}

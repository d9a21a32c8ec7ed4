import Foundation

/// What a summary may rest on, rendered as labelled text lines with times. Each kind of input is labelled
/// for what it is, so the model is never told that pixel statistics are a caption.
public struct Evidence: Sendable {
    public var fileName: String
    public var probe: RecapOutput.Probe
    public var segments: [RecapOutput.Segment]
    public var scenes: [RecapOutput.Scene]
    /// The audio's measured speech / sound / silence spans (empty when not measured).
    public var timeline: [RecapOutput.AudioSpan]

    public init(fileName: String, probe: RecapOutput.Probe, segments: [RecapOutput.Segment], scenes: [RecapOutput.Scene],
                timeline: [RecapOutput.AudioSpan] = []) {
        self.fileName = fileName; self.probe = probe; self.segments = segments; self.scenes = scenes; self.timeline = timeline
    }

    public var hasSpeech: Bool { segments.contains { !$0.text.trimmingCharacters(in: .whitespaces).isEmpty } }
    public var hasOnScreenText: Bool { scenes.contains { !$0.ocrText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty } }
    public var hasModelDescriptions: Bool { scenes.contains { $0.descriptionSource == "model" } }

    public static func clock(_ t: Double) -> String {
        let s = Int(max(0, t).rounded(.down))
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }

    /// A timed line of evidence; chunking packs these by time.
    public struct Line: Sendable, Equatable {
        public enum Kind: String, Sendable { case transcript, ocr, frameFacts }
        public var time: Double
        public var kind: Kind
        public var text: String
    }

    public var lines: [Line] {
        var out: [Line] = []
        for s in segments where !s.text.trimmingCharacters(in: .whitespaces).isEmpty {
            out.append(Line(time: s.start, kind: .transcript, text: "[\(Self.clock(s.start))] \(s.text.trimmingCharacters(in: .whitespaces))"))
        }
        for sc in scenes {
            let ocr = sc.ocrText.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " / ")
            if !ocr.isEmpty { out.append(Line(time: sc.frameTime, kind: .ocr, text: "[\(Self.clock(sc.frameTime))] \(ocr)")) }
            out.append(Line(time: sc.frameTime, kind: .frameFacts, text: "[\(Self.clock(sc.start))–\(Self.clock(sc.end))] \(sc.description)"))
        }
        return out.sorted { $0.time < $1.time }
    }

    public var metadata: String {
        var parts = ["file \(fileName)", String(format: "duration %.1f s", probe.durationSeconds)]
        if let w = probe.width, let h = probe.height { parts.append("\(w)×\(h) video") }
        if !probe.hasVideo { parts.append("audio only") }
        if !probe.hasAudio { parts.append("no audio track") }
        if let t = probe.tags["title"], !t.isEmpty { parts.append("title tag \"\(t)\"") }
        if let t = probe.tags["creation_time"], !t.isEmpty { parts.append("created \(t)") }
        return parts.joined(separator: "; ")
    }

    public var sceneList: String {
        scenes.map { "Scene \($0.index + 1): \(Self.clock($0.start))–\(Self.clock($0.end))" }.joined(separator: "\n")
    }

    /// Template inputs for a subset of lines (a chunk) or all of them.
    public func inputs(lines subset: [Line]? = nil, extract: [Extractive.Sentence] = [], chunkSummaries: String = "") -> [String: String] {
        let ls = subset ?? lines
        func join(_ k: Line.Kind) -> String { ls.filter { $0.kind == k }.map(\.text).joined(separator: "\n") }
        var facts = join(.frameFacts)
        // Pixel statistics add nothing a summary of a talk can use, and each line costs a small model time.
        if !hasModelDescriptions && (hasSpeech || hasOnScreenText) { facts = "" }
        if !facts.isEmpty && !hasModelDescriptions {
            facts = "(measured from pixels by software, not a caption; nothing here says what is shown)\n" + facts
        }
        return [
            "transcript": join(.transcript),
            "ocr": join(.ocr),
            "frame_facts": facts,
            "metadata": metadata,
            "extract": extract.map { "[\(Self.clock($0.start))] \($0.text)" }.joined(separator: "\n"),
            "chunk_summaries": chunkSummaries,
            "scene_list": sceneList,
        ]
    }
}

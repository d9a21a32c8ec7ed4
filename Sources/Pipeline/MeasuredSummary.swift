import Engine
import Foundation

/// A title and summary for media with nothing to read or hear: no speech, no on-screen text, no model that
/// sees. They are made from what was measured (length, picture, motion, shots, the audio timeline), so a person
/// scanning a thousand of them learns what each file is ("A 10-second clip of bright green footage with
/// sound, no speech"), and nothing is invented: every word maps to a measurement.
struct MeasuredSummary {
    let evidence: Evidence

    /// "10-second", "2-minute", "1-hour 5-minute".
    var length: String {
        let d = max(0, evidence.probe.durationSeconds)
        if d < 90 { return "\(max(1, Int(d.rounded())))-second" }
        if d < 3600 { return "\(Int((d / 60).rounded()))-minute" }
        let m = Int((d / 60).rounded())
        return m % 60 == 0 ? "\(m / 60)-hour" : "\(m / 60)-hour \(m % 60)-minute"
    }

    var noun: String {
        guard evidence.probe.hasVideo else { return "recording" }
        return evidence.probe.durationSeconds < 120 ? "clip" : "video"
    }

    /// The colours that dominate most frames, most common first.
    var colours: [String] {
        var score: [String: Double] = [:]
        for s in evidence.scenes {
            for (rank, c) in (s.facts?.dominantColors ?? []).prefix(3).enumerated() { score[c, default: 0] += 3 - Double(rank) }
        }
        return score.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
    }

    var brightness: String? {
        let b = evidence.scenes.compactMap { $0.facts?.brightness }
        guard !b.isEmpty else { return nil }
        let mean = b.reduce(0, +) / Double(b.count)
        return mean < 0.25 ? "dark" : mean > 0.6 ? "bright" : nil
    }

    var motion: String? {
        let m = evidence.scenes.compactMap { $0.facts?.motion }
        guard !m.isEmpty else { return nil }
        let mean = m.reduce(0, +) / Double(m.count)
        return mean < 0.02 ? "still" : mean < 0.15 ? "moving" : "fast-moving"
    }

    /// Seconds of each audio kind in the timeline.
    var audio: (sound: Double, silence: Double, speech: Double) {
        var out = (sound: 0.0, silence: 0.0, speech: 0.0)
        for s in evidence.timeline {
            let d = s.end - s.start
            switch s.kind { case "sound": out.sound += d; case "speech": out.speech += d; default: out.silence += d }
        }
        return out
    }

    /// "with sound, no speech", "silent", "with no audio track".
    var audioPhrase: String {
        guard evidence.probe.hasAudio else { return "with no audio track" }
        let a = audio, total = a.sound + a.silence + a.speech
        guard total > 0 else { return "with audio, no speech" }
        if a.sound < 0.5 { return "with silent audio" }
        return a.sound / total > 0.8 ? "with sound throughout, no speech" : "with sound in places, no speech"
    }

    var title: String {
        var picture: [String] = []
        if let b = brightness { picture.append(b) }
        if let c = colours.first, !["gray", "black", "white"].contains(c) || colours.count == 1 { picture.append(c) }
        let what = evidence.probe.hasVideo ? (picture.isEmpty ? "footage" : picture.joined(separator: " ") + " footage") : "audio"
        // A title says what there is; "no speech" is for the summary (a title reading like an error helps nobody).
        var sound = ""
        if evidence.probe.hasVideo {
            let a = audioPhrase
            sound = a.hasPrefix("with sound") ? " with sound" : a.hasPrefix("with audio") ? "" : " " + a
        }
        return "A \(length) \(noun) of \(what)\(sound)"
    }

    var oneLine: String {
        let shots = evidence.scenes.count
        let shotText = evidence.probe.hasVideo && shots > 1 ? " in \(shots) shots" : ""
        return "\(title)\(shotText); no speech or on-screen text was found."
    }

    var paragraph: String {
        var s: [String] = []
        if evidence.probe.hasVideo {
            var picture = "The picture is"
            var bits: [String] = []
            if let b = brightness { bits.append("mostly \(b)") }
            let c = colours.prefix(3)
            if !c.isEmpty { bits.append("dominated by " + Self.list(Array(c))) }
            if let m = motion { bits.append(m == "still" ? "nearly still" : m == "moving" ? "with some motion" : "with strong motion") }
            picture += bits.isEmpty ? " not measurable" : " " + bits.joined(separator: ", ")
            let shots = evidence.scenes.count
            s.append(picture + (shots > 1 ? ", across \(shots) shots." : "."))
        }
        if evidence.probe.hasAudio {
            let a = audio, total = a.sound + a.silence + a.speech
            if total > 0 {
                s.append(String(format: "The audio holds no speech: %.0f s of sound and %.0f s of silence.", a.sound, a.silence))
            } else {
                s.append("The audio holds no speech.")
            }
        } else if evidence.probe.hasVideo {
            s.append("There is no audio track.")
        }
        s.append("No on-screen text was read. This description was measured from the file, not written by a model.")
        return s.joined(separator: " ")
    }

    var tags: [String] {
        var t = Array(colours.prefix(2))
        if let m = motion { t.append(m) }
        t.append(evidence.probe.hasAudio ? (audio.sound > 0.5 ? "no speech" : "silent") : "no audio")
        return t
    }

    static func list(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }

    /// Fills the schema's text fields (and the simple lists) from the measurements.
    func fill(_ schema: JSONValue) -> JSONValue {
        var out = SchemaFiller.fill(schema, text: oneLine).objectValue ?? [:]
        for (key, prop) in schema["properties"]?.objectValue ?? [:] {
            let max = Int(prop["maxLength"]?.doubleValue ?? 10_000)
            switch prop["type"]?.stringValue {
            case "string" where prop["enum"] == nil:
                let text = ["title", "short_caption", "alt_text"].contains(key) ? title : key == "one_line" ? oneLine : paragraph
                out[key] = .string(Limits.truncate(text, to: max))
            case "array" where prop["items"]?["type"]?.stringValue == "string":
                let limit = Int(prop["maxItems"]?.doubleValue ?? 8)
                if ["tags", "keywords", "hashtags"].contains(key) { out[key] = .array(tags.prefix(limit).map { .string($0) }) }
                if key == "key_points" { out[key] = .array([.string(oneLine)]) }
            default: break
            }
        }
        return .object(out)
    }
}

import Foundation

/// "Speaker 1", "Speaker 2"… for a file's segments from their voices: segments long enough to embed are
/// clustered; the others take the label of the closest speaker's mean voice, or their neighbour's.
enum SpeakerLabels {
    static func assign(_ voices: [[Float]?], durations: [Double]) -> [String] {
        let known = voices.indices.filter { voices[$0] != nil }
        let labels = SpeakerClustering.cluster(known.map { voices[$0]! }, weights: known.map { max(0.3, durations[$0]) })
        if ProcessInfo.processInfo.environment["RECAP_SPEAKER_DEBUG"] == "1" {
            for a in known {
                let row = known.map { String(format: "%.2f", SpeakerClustering.dot(voices[a]!, voices[$0]!)) }.joined(separator: " ")
                FileHandle.standardError.write(Data("voice \(a): \(row)\n".utf8))
            }
        }
        var out = [Int?](repeating: nil, count: voices.count)
        for (k, i) in known.enumerated() { out[i] = labels[k] }
        // Each speaker's mean voice, for the segments too short to cluster on their own.
        let speakers = Set(labels).sorted()
        let means = speakers.map { s -> [Float] in
            let members = known.indices.filter { labels[$0] == s }.map { voices[known[$0]]! }
            return VoiceEncoder.normalised((0..<(members.first?.count ?? 0)).map { d in members.reduce(0) { $0 + $1[d] } })
        }
        for i in out.indices where out[i] == nil {
            if let v = voices[i], let best = speakers.indices.max(by: { SpeakerClustering.dot(v, means[$0]) < SpeakerClustering.dot(v, means[$1]) }) {
                out[i] = speakers[best]
            } else {
                out[i] = (0..<i).reversed().lazy.compactMap { out[$0] }.first ?? out[(i + 1)...].lazy.compactMap { $0 }.first ?? 0
            }
        }
        return out.map { "Speaker \(($0 ?? 0) + 1)" }
    }
}

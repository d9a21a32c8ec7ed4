import Foundation
import Testing
@testable import Pipeline

/// How transcripts are cut into what search indexes.
@Suite struct SearchPassagesTests {
    func seg(_ start: Double, _ end: Double, _ text: String, _ speaker: String? = nil) -> RecapOutput.Segment {
        RecapOutput.Segment(start: start, end: end, text: text, speaker: speaker)
    }

    @Test func segmentsJoinUntilASpeakerChangeAPauseOrTheSizeLimit() {
        let passages = SearchPassages.transcript([
            seg(0, 2, " Thank you.", "Speaker 1"),
            seg(2.2, 5, "Today: rivers and deltas.", "Speaker 1"),
            seg(5.5, 8, "Why do deltas form?", "Speaker 2"),     // another speaker
            seg(12, 14, "Because rivers slow down.", "Speaker 2"),  // after a 4 s pause
            seg(14, 15, "   ", "Speaker 2"),                       // empty: skipped
        ])
        #expect(passages.map(\.text) == ["Thank you. Today: rivers and deltas.", "Why do deltas form?", "Because rivers slow down."])
        #expect(passages.map(\.start) == [0, 5.5, 12])
        #expect(passages.map(\.end) == [5, 8, 14])
        #expect(passages.map(\.speaker) == ["Speaker 1", "Speaker 2", "Speaker 2"])

        let long = (0..<30).map { seg(Double($0), Double($0) + 1, "one two three four five") }
        let cut = SearchPassages.transcript(long)
        #expect(cut.allSatisfy { $0.text.split(separator: " ").count <= SearchPassages.maxWords })
        #expect(cut.count == 4)  // 150 words in passages of at most 40 (8 segments each)
    }

    @Test func creationTimeTagsInTheFormsDevicesWrite() {
        #expect(SearchPassages.date("2024-05-01T12:30:00.000000Z") == 1_714_566_600)
        #expect(SearchPassages.date("2024-05-01T12:30:00Z") == 1_714_566_600)
        #expect(SearchPassages.date("2024-05-01 12:30:00") == 1_714_566_600)
        #expect(SearchPassages.date("yesterday") == nil)
    }
}

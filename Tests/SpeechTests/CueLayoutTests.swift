import XCTest
@testable import Speech

final class CueLayoutTests: XCTestCase {
    let rules = SubtitleRules()
    static let articles: Set<String> = ["a", "an", "the", "my", "your", "his", "her", "its", "our", "their", "this", "that"]

    /// Speech at `cps` characters per second (a space takes as long as a letter), with short pauses
    /// after commas and longer ones after sentences; one segment per sentence.
    func speak(_ text: String, from start: Double = 0.5, cps: Double = 15, speaker: String? = nil) -> [[TimedWord]] {
        var t = start, segments: [[TimedWord]] = [[]]
        for raw in text.split(separator: " ") {
            let word = String(raw)
            let end = t + Double(word.count) / cps
            segments[segments.count - 1].append(TimedWord(start: t, end: end, text: " " + word, probability: 0.9, speaker: speaker))
            t = end + 1 / cps
            if word.hasSuffix(",") { t += 0.15 }
            if let last = word.last, ".!?".contains(last) { t += 0.35; segments.append([]) }
        }
        return segments.filter { !$0.isEmpty }
    }

    func words(of cues: [Cue]) -> [String] {
        cues.flatMap { $0.lines.flatMap { $0.split(separator: " ").map(String.init) } }
    }

    func bare(_ word: Substring) -> String { word.lowercased().filter(\.isLetter) }

    /// No line may end on an article or possessive (unless punctuation closes it, e.g. "that.").
    func assertNoDanglingArticles(_ cues: [Cue], file: StaticString = #filePath, line: UInt = #line) {
        for cue in cues {
            for text in cue.lines.dropLast() + (cue == cues.last ? [] : [cue.lines.last!]) {
                guard let last = text.split(separator: " ").last, last.last?.isLetter == true else { continue }
                XCTAssertFalse(Self.articles.contains(bare(last)), "line ends on \"\(last)\": \(text)", file: file, line: line)
            }
        }
    }

    let paragraph = """
        Good evening, and welcome back to the programme. Tonight we are travelling along the northern coast of \
        Egypt, where the ancient city of Alexandria once stood. For almost two thousand years, its great lighthouse \
        guided sailors safely into the harbour, and travellers wrote about it with a sense of wonder. Nobody is \
        quite sure how tall it really was. Some accounts say it rose more than a hundred metres above the sea, \
        which would have made it one of the tallest buildings in the world. Earthquakes damaged it over the \
        centuries, and by the fourteenth century the last of its stones had fallen. Today, divers are still \
        finding pieces of it on the seabed, and each discovery tells us a little more about how it was built.
        """

    func testParagraphAtNormalSpeedMeetsEveryRule() {
        let segments = speak(paragraph)
        let spoken = segments.flatMap { $0.map { $0.text.trimmingCharacters(in: .whitespaces) } }
        XCTAssertGreaterThan(spoken.count, 110)
        let cues = CueLayout.cues(segments: segments)
        XCTAssertEqual(CueLayout.violations(cues), [])
        XCTAssertEqual(words(of: cues), spoken, "every word exactly once, in order, never split")
        XCTAssertGreaterThan(cues.count, 8)
        assertNoDanglingArticles(cues)
        for cue in cues {
            XCTAssertEqual(cue.lines.joined(separator: " "), cue.lines.joined(separator: " ").trimmingCharacters(in: .whitespaces))
            XCTAssertFalse(cue.text.contains("  "))
            XCTAssertNil(cue.speaker)
        }
        // Each cue starts with its first word (to the millisecond).
        let firstWords = Dictionary(segments.flatMap { $0 }.map { ($0.text.trimmingCharacters(in: .whitespaces), $0.start) },
                                    uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(cues.first!.start, firstWords["Good"]!, accuracy: 0.0006)
        // Sentence ends are the preferred cue ends: most cues should end on punctuation.
        let punctuated = cues.filter { $0.lines.last!.last.map { ".,!?".contains($0) } ?? false }
        XCTAssertGreaterThanOrEqual(Double(punctuated.count), Double(cues.count) * 0.7, cues.map(\.text).joined(separator: "\n--\n"))
    }

    func testBreaksPreferPunctuationAndKeepArticlesWithTheirNoun() {
        let text = "Hello there, my friend. The lighthouse of Alexandria was one of the seven wonders of the ancient world."
        let cues = CueLayout.cues(segments: [speak(text).flatMap { $0 }])  // one segment: only punctuation guides the break
        XCTAssertEqual(CueLayout.violations(cues), [])
        let lines = cues.flatMap(\.lines)
        XCTAssertTrue(lines.contains { $0.hasSuffix("friend.") }, "\(lines)")
        XCTAssertFalse(lines.contains { $0.hasSuffix(" the") || $0.hasSuffix("The") }, "\(lines)")
        XCTAssertEqual(cues.last?.lines.count, 2)
        assertNoDanglingArticles(cues)

        // With narrow lines, many breaks are forced; they still must not strand an article.
        let narrow = SubtitleRules(maxLineChars: 16)
        let tight = CueLayout.cues(segments: speak(paragraph), rules: narrow)
        XCTAssertEqual(CueLayout.violations(tight, rules: narrow), [])
        assertNoDanglingArticles(tight)

        let three = SubtitleRules(maxLineChars: 20, maxLines: 3)
        let stacked = CueLayout.cues(segments: speak(paragraph), rules: three)
        XCTAssertEqual(CueLayout.violations(stacked, rules: three), [])
        XCTAssertTrue(stacked.contains { $0.lines.count == 3 })
        XCTAssertEqual(words(of: stacked), words(of: tight))
    }

    func testTwoLineCuesAreBalancedOrBottomHeavy() {
        let text = "we walked slowly along the narrow path beside the river until the evening light began to fade"
        let cues = CueLayout.cues(segments: [speak(text, cps: 14).flatMap { $0 }])
        XCTAssertGreaterThanOrEqual(cues.count, 2, "94 characters cannot fit one cue")
        XCTAssertTrue(cues.contains { $0.lines.count == 2 })
        for cue in cues where cue.lines.count == 2 {
            let (top, bottom) = (cue.lines[0].count, cue.lines[1].count)
            XCTAssertLessThanOrEqual(abs(top - bottom), 14, "\(cue.lines)")
        }
        XCTAssertEqual(CueLayout.violations(cues), [])
    }

    func testSpeakerChangeForcesNewCue() {
        let a = "Speaker 1", b = "Speaker 2"
        let segment = [
            TimedWord(start: 0.0, end: 0.3, text: " Are", speaker: a),
            TimedWord(start: 0.35, end: 0.6, text: " you", speaker: a),
            TimedWord(start: 0.65, end: 1.0, text: " sure?", speaker: a),
            TimedWord(start: 1.1, end: 1.4, text: " Yes,", speaker: b),
            TimedWord(start: 1.45, end: 1.9, text: " completely.", speaker: b),
            TimedWord(start: 2.0, end: 2.5, text: " Good.", speaker: a),
        ]
        let cues = CueLayout.cues(segments: [segment])  // one segment, so only the speaker change splits it
        XCTAssertEqual(cues.map(\.speaker), [a, b, a])
        XCTAssertEqual(cues.map(\.text), ["Are you sure?", "Yes, completely.", "Good."])
        XCTAssertTrue(CueLayout.violations(cues).allSatisfy { $0.contains("duration") || $0.contains("per second") },
                      "\(CueLayout.violations(cues))")
        for (p, n) in zip(cues, cues.dropFirst()) { XCTAssertGreaterThanOrEqual(n.start - p.end, rules.minGap - 1e-6) }

        let srt = SubtitleFormat.srt(cues)
        XCTAssertTrue(srt.hasPrefix("1\n00:00:00,000 --> "), srt)
        XCTAssertTrue(srt.contains("\n[Speaker 2] Yes, completely.\n\n"), srt)
        let vtt = SubtitleFormat.vtt(cues)
        XCTAssertTrue(vtt.hasPrefix("WEBVTT\n\n00:00:00.000 --> "), vtt)
        XCTAssertTrue(vtt.contains("\n<v Speaker 1>Are you sure?\n\n"), vtt)
    }

    func testFormatsExactly() {
        let cues = [Cue(start: 1, end: 2.5, lines: ["line1", "line2"], speaker: "Speaker 1"),
                    Cue(start: 3723.4567, end: 3725, lines: ["a < b & c"])]
        XCTAssertEqual(SubtitleFormat.srt(cues), """
            1\n00:00:01,000 --> 00:00:02,500\n[Speaker 1] line1\nline2\n\n\
            2\n01:02:03,457 --> 01:02:05,000\na < b & c\n\n
            """)
        XCTAssertEqual(SubtitleFormat.vtt(cues), """
            WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n<v Speaker 1>line1\nline2\n\n\
            01:02:03.457 --> 01:02:05.000\na &lt; b &amp; c\n\n
            """)
        XCTAssertEqual(SubtitleFormat.stamp(-3, comma: true), "00:00:00,000")
        XCTAssertEqual(SubtitleFormat.stamp(.nan, comma: false), "00:00:00.000")
        XCTAssertEqual(SubtitleFormat.stamp(59.9996, comma: false), "00:01:00.000")
        XCTAssertEqual(SubtitleFormat.stamp(360_000, comma: true), "100:00:00,000")
    }

    func testShortWordIsExtendedButKeepsTheGap() {
        let yes = TimedWord(start: 1.0, end: 1.2, text: " Yes.")
        let alone = CueLayout.cues(segments: [[yes]])
        XCTAssertEqual(alone.count, 1)
        XCTAssertEqual(alone[0].start, 1.0)
        XCTAssertEqual(alone[0].end - alone[0].start, rules.minDuration, accuracy: 0.0011)
        XCTAssertEqual(CueLayout.violations(alone), [])

        // Same speaker after a long pause: stays its own cue, extended into the silence.
        let later = speak("I will be there tomorrow.", from: 5)
        let paused = CueLayout.cues(segments: [[yes]] + later)
        XCTAssertEqual(paused.map(\.text), ["Yes.", "I will be there tomorrow."])
        XCTAssertEqual(CueLayout.violations(paused), [])

        // Another speaker soon after: "Yes." reaches its minimum by starting the next cue a little late.
        let reply = speak("No, I don't think so.", from: 1.75, speaker: "B")
        let soon = CueLayout.cues(segments: [[yes]] + reply)
        XCTAssertEqual(soon.count, 2)
        XCTAssertEqual(CueLayout.violations(soon), [])
        XCTAssertGreaterThanOrEqual(soon[1].start - soon[0].end, rules.minGap - 1e-6)
        XCTAssertGreaterThan(soon[1].start, 1.75, "nudged later")
        XCTAssertLessThanOrEqual(soon[1].start, reply[0][0].end)

        // Reply right away: no room to reach the minimum; the gap still wins and the short cue is reported.
        let quick = [[TimedWord(start: 1.25, end: 1.32, text: "No.", speaker: "B")]]
        let cramped = CueLayout.cues(segments: [[yes]] + quick)
        XCTAssertEqual(cramped.count, 2)
        XCTAssertGreaterThanOrEqual(cramped[0].end, 1.2 - 0.08 - 1e-6)
        XCTAssertLessThanOrEqual(cramped[1].start, 1.32 + 1e-6)
        XCTAssertGreaterThanOrEqual(cramped[1].start - cramped[0].end, rules.minGap - 1e-6)
        let problems = CueLayout.violations(cramped)
        XCTAssertFalse(problems.isEmpty)
        XCTAssertTrue(problems.allSatisfy { $0.contains("< minimum 0.833") || $0.contains("per second") }, "\(problems)")
    }

    func testWordsWithoutTimesSpreadByLength() {
        let spread = CueLayout.words(start: 10, end: 14, text: "  one\tthree-->x \n fiftyfive  ", speaker: "S")
        XCTAssertEqual(spread.map(\.text), ["one", "three→x", "fiftyfive"])
        XCTAssertEqual(spread.first?.start, 10)
        XCTAssertEqual(spread.last?.end ?? 0, 14, accuracy: 1e-9)
        for (w, n) in zip(spread, spread.dropFirst()) { XCTAssertEqual(w.end, n.start, accuracy: 1e-9) }
        for w in spread {
            XCTAssertEqual(w.end - w.start, 4 * Double(w.text.count) / 19, accuracy: 1e-9)
            XCTAssertEqual(w.speaker, "S")
            XCTAssertTrue((10...14).contains(w.start) && (10...14).contains(w.end) && w.start <= w.end)
        }
        XCTAssertEqual(CueLayout.words(start: 1, end: 2, text: "   ", speaker: nil), [])
        XCTAssertEqual(CueLayout.words(start: .nan, end: 2, text: "hi", speaker: nil), [])
        let backwards = CueLayout.words(start: -1, end: -5, text: "a b", speaker: nil)
        XCTAssertTrue(backwards.allSatisfy { $0.start == 0 && $0.end == 0 })

        // A remote engine's segment, laid out from spread words, still meets the rules.
        let cues = CueLayout.cues(segments: [CueLayout.words(start: 2, end: 9, text: String(paragraph.prefix(100)), speaker: nil)])
        XCTAssertEqual(CueLayout.violations(cues), [])
    }

    func testViolationsReportEachKind() {
        let good = [Cue(start: 0, end: 2, lines: ["Hello there,", "my friend."]), Cue(start: 2.08, end: 3, lines: ["Bye."])]
        XCTAssertEqual(CueLayout.violations(good), [])
        let bad: [(Cue, String)] = [
            (Cue(start: 0, end: 6, lines: [String(repeating: "word ", count: 9) + "end!"]), "line 1 has 49 characters > 42"),
            (Cue(start: 0, end: 6, lines: ["one", "two", "three"]), "3 lines"),
            (Cue(start: 0, end: 1, lines: ["This line is read much too fast."]), "characters per second"),
            (Cue(start: 0, end: 0.5, lines: ["Hi."]), "< minimum 0.833"),
            (Cue(start: 0, end: 9, lines: ["Slow."]), "> maximum 7.000"),
            (Cue(start: 1, end: 1, lines: ["Zero."]), "invalid times"),
            (Cue(start: 0, end: 2, lines: []), "0 lines"),
            (Cue(start: 0, end: 2, lines: ["a --> b"]), "-->"),
        ]
        for (cue, expected) in bad {
            let found = CueLayout.violations([cue])
            XCTAssertTrue(found.contains { $0.hasPrefix("cue 1: ") && $0.contains(expected) }, "\(expected) not in \(found)")
        }
        let close = [good[0], Cue(start: 2.04, end: 3, lines: ["Bye."])]
        XCTAssertEqual(CueLayout.violations(close), ["cue 2: gap after cue 1 is 0.040 s < minimum gap 0.080 s"])
        let overlap = [good[0], Cue(start: 1.5, end: 3, lines: ["Bye."])]
        XCTAssertEqual(CueLayout.violations(overlap), ["cue 2: overlaps cue 1 by 0.500 s"])
        // A lone over-long word is the one permitted long line.
        XCTAssertEqual(CueLayout.violations([Cue(start: 0, end: 4, lines: [String(repeating: "x", count: 60)])]), [])
    }

    func testOddInput() {
        XCTAssertEqual(CueLayout.cues(segments: []), [])
        XCTAssertEqual(CueLayout.cues(segments: [[], []]), [])
        XCTAssertEqual(CueLayout.cues(segments: [[TimedWord(start: 1, end: 2, text: "  ")]]), [])

        let long = String(repeating: "a", count: 60)
        let withLong = [[TimedWord(start: 0, end: 0.4, text: " Look:"), TimedWord(start: 0.5, end: 4.5, text: " " + long),
                         TimedWord(start: 4.6, end: 5.0, text: " there.")]]
        let cues = CueLayout.cues(segments: withLong)
        XCTAssertEqual(words(of: cues), ["Look:", long, "there."])
        XCTAssertTrue(cues.flatMap(\.lines).contains(long), "the long word stands alone on its line")
        XCTAssertTrue(CueLayout.violations(cues).allSatisfy { !$0.contains("characters >") })

        let messy = [[
            TimedWord(start: .nan, end: 1, text: " ghost"),
            TimedWord(start: -0.5, end: 0.3, text: " Early"),
            TimedWord(start: 0.35, end: .infinity, text: " lost"),
            TimedWord(start: 0.4, end: 0.7, text: "  arrow -->  "),
            TimedWord(start: 0.75, end: 1.1, text: " here.\n"),
        ]]
        let cleaned = CueLayout.cues(segments: messy)
        XCTAssertEqual(cleaned.map(\.text), ["Early arrow → here."])
        XCTAssertEqual(cleaned.first?.start, 0)
        XCTAssertEqual(CueLayout.violations(cleaned), [])
        XCTAssertFalse(SubtitleFormat.srt(cleaned).dropFirst(30).contains("-->"))

        // Words stacked on a single instant still give ordered, non-overlapping cues.
        let stacked = [[TimedWord(start: 3, end: 3, text: "a", speaker: "A"), TimedWord(start: 3, end: 3, text: "b", speaker: "B"),
                        TimedWord(start: 3, end: 3, text: "c", speaker: "A")]]
        let pile = CueLayout.cues(segments: stacked)
        XCTAssertEqual(pile.count, 3)
        for cue in pile { XCTAssertLessThan(cue.start, cue.end) }
        for (p, n) in zip(pile, pile.dropFirst()) { XCTAssertLessThanOrEqual(p.end, n.start) }
        XCTAssertFalse(CueLayout.violations(pile).contains { $0.contains("overlaps") || $0.contains("invalid") })
    }

    func testFastSpeechBreaksOnlyReadingSpeed() {
        let cues = CueLayout.cues(segments: speak(paragraph, cps: 24))
        let problems = CueLayout.violations(cues)
        XCTAssertFalse(problems.isEmpty, "24 cps cannot be shown at 17 cps")
        XCTAssertEqual(problems.filter { !$0.contains("characters per second") }, [])
    }

    func testLongTalksAtNormalSpeedsMeetEveryRule() {
        var state: UInt64 = 42
        func next(_ n: Int) -> Int {  // SplitMix64: deterministic, so a failure reproduces
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(n))
        }
        let vocabulary = paragraph.split(separator: " ").map { $0.filter(\.isLetter) }.filter { !$0.isEmpty }
            + ["I", "a", "extraordinarily", "yes", "no"]
        for trial in 0..<6 {
            // 12...15 characters per second, words often abutting (as whisper times them), irregular pauses.
            let cps = 12.0 + Double(trial % 4), rules = trial % 2 == 0 ? SubtitleRules() : SubtitleRules(maxLineChars: 32)
            var segments: [[TimedWord]] = [[]], spoken: [String] = [], t = 0.3
            for _ in 0..<800 {
                var word = vocabulary[next(vocabulary.count)]
                switch next(10) { case 0: word += "."; case 1: word += ","; case 2: word += "?"; default: break }
                let duration = Double(word.count) / cps
                segments[segments.count - 1].append(TimedWord(start: t, end: t + duration, text: " " + word, speaker: "Speaker 1"))
                spoken.append(word)
                t += duration + (next(3) == 0 ? 0 : Double(next(3)) / cps)
                if word.hasSuffix(".") || word.hasSuffix("?") { t += Double(next(5)) * 0.1; segments.append([]) }
            }
            let cues = CueLayout.cues(segments: segments, rules: rules)
            XCTAssertEqual(CueLayout.violations(cues, rules: rules), [], "trial \(trial)")
            XCTAssertEqual(words(of: cues), spoken, "trial \(trial)")
            XCTAssertTrue(cues.allSatisfy { $0.speaker == "Speaker 1" })
            assertNoDanglingArticles(cues)
        }
    }
}

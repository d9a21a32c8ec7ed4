import Foundation

/// A talk with slides is chaptered by its slides. Each slide's heading (and the lines under it, as far as they
/// fit) becomes a chapter at the time the slide appears: what a person would write as the table of contents of
/// a lecture, with the names, places and dates the slide shows. The model is then not asked for chapters.
///
/// Only for real slides: at least three distinct headings, each shown for 10 s or more on average (burned-in
/// subtitles and tickers change every few seconds and are not chapters), together covering most of the video.
struct SlideChapters {
    struct Section: Equatable {
        var start: Double
        var end: Double
        var heading: String
        var details: [String]
    }

    let sections: [Section]
    static let minSections = 3
    static let minMeanSeconds = 10.0

    init?(_ e: Evidence) {
        let duration = e.probe.durationSeconds
        var sections: [Section] = []
        for scene in e.scenes.sorted(by: { $0.start < $1.start }) {
            let lines = scene.ocrText.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter(Self.isClean)
            guard let heading = lines.first, heading.split(separator: " ").filter({ $0.filter(\.isLetter).count >= 2 }).count >= 2,
                  TitleCheck.problem(heading, fileName: e.fileName) == nil else {
                // A scene without a heading (a picture, a blank) belongs to the slide before it.
                if !sections.isEmpty { sections[sections.count - 1].end = scene.end }
                continue
            }
            if let last = sections.last, last.heading.lowercased() == heading.lowercased() {
                sections[sections.count - 1].end = scene.end
                continue
            }
            if !sections.isEmpty { sections[sections.count - 1].end = scene.start }
            sections.append(Section(start: scene.start, end: scene.end, heading: heading, details: Array(lines.dropFirst())))
        }
        guard sections.count >= Self.minSections, let first = sections.first, let last = sections.last else { return nil }
        let covered = last.end - first.start
        guard covered / Double(sections.count) >= Self.minMeanSeconds, duration <= 0 || covered >= 0.5 * duration else { return nil }
        self.sections = sections
    }

    /// At most `limit` chapters of at most `maxTitle` characters: one per slide, titled "Heading: detail; detail",
    /// or, with more slides than chapters, neighbouring slides grouped evenly and titled by their headings.
    func chapters(limit: Int, maxTitle: Int = TitleCheck.maxLength) -> [(start: Double, title: String)] {
        let groups = max(1, min(limit, sections.count))
        return (0..<groups).map { g in
            let part = sections[(g * sections.count / groups)..<((g + 1) * sections.count / groups)]
            let title: String
            if part.count == 1, let only = part.first {
                title = Self.join(Self.display(only.heading), only.details.map(Self.display), first: ": ", then: "; ", max: maxTitle)
            } else {
                let headings = part.map { Self.display($0.heading) }
                title = Self.join(headings[0], Array(headings.dropFirst()), first: "; ", then: "; ", max: maxTitle)
            }
            return (part.first!.start, title)
        }
    }

    /// `head`, then as many of `rest` as fit whole within `max` characters.
    static func join(_ head: String, _ rest: [String], first: String, then: String, max: Int) -> String {
        var out = Limits.truncate(head, to: max)
        for (i, r) in rest.enumerated() {
            let next = out + (i == 0 ? first : then) + r
            guard next.count <= max else { break }
            out = next
        }
        return out
    }

    /// Slides shout in capitals; chapters are written in title case ("MAINZ, GERMANY" → "Mainz, Germany").
    static func display(_ line: String) -> String {
        line == line.uppercased() && line.contains(where: \.isLetter) ? Summarizer.titleCase(line) : line
    }

    /// A line OCR read cleanly: mostly letters and digits, with at least one word of two letters or more.
    static func isClean(_ line: String) -> Bool {
        let visible = line.filter { !$0.isWhitespace }
        guard !visible.isEmpty else { return false }
        let plain = visible.filter { $0.isLetter || $0.isNumber || ",.:;'&-–".contains($0) }.count
        return Double(plain) / Double(visible.count) >= 0.85 && line.split(separator: " ").contains { $0.filter(\.isLetter).count >= 2 }
    }
}

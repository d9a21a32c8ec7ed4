import Foundation

/// Word error rate and a word alignment between a reference script and a hypothesis, for the tests.
struct WordAlignment {
    /// Lowercased words without punctuation ("River deltas." → ["river", "deltas"]).
    static func words(_ text: String) -> [String] {
        let kept: [Character] = text.lowercased().map { (c: Character) -> Character in
            c.isLetter || c.isNumber || c == "'" ? c : " "
        }
        return String(kept).split(separator: " ").map(String.init)
    }

    let reference: [String]
    let hypothesis: [String]
    /// For each hypothesis word, the index of the reference word it was matched or substituted with.
    private(set) var hypothesisToReference: [Int?] = []
    private(set) var errors = 0

    init(reference: [String], hypothesis: [String]) {
        self.reference = reference
        self.hypothesis = hypothesis
        let n = reference.count, m = hypothesis.count
        var d = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        for i in 0...n { d[i][0] = i }
        for j in 0...m { d[0][j] = j }
        if n > 0 && m > 0 {
            for i in 1...n {
                for j in 1...m {
                    let sub = d[i - 1][j - 1] + (reference[i - 1] == hypothesis[j - 1] ? 0 : 1)
                    d[i][j] = min(sub, d[i - 1][j] + 1, d[i][j - 1] + 1)
                }
            }
        }
        errors = d[n][m]
        var map = [Int?](repeating: nil, count: m)
        var i = n, j = m
        while i > 0 && j > 0 {
            let sub = d[i - 1][j - 1] + (reference[i - 1] == hypothesis[j - 1] ? 0 : 1)
            if d[i][j] == sub { map[j - 1] = i - 1; i -= 1; j -= 1 }
            else if d[i][j] == d[i - 1][j] + 1 { i -= 1 }
            else { j -= 1 }
        }
        hypothesisToReference = map
    }

    var wordErrorRate: Double { reference.isEmpty ? (hypothesis.isEmpty ? 0 : 1) : Double(errors) / Double(reference.count) }
}

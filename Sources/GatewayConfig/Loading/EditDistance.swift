/// "Did you mean" suggestions: the closest candidate within edit distance 2, which catches the usual
/// typos (`helth_check`, `timout`, `tsl`) without proposing unrelated keys.
enum Suggestion {
    static func closest(to word: String, in candidates: [String], maxDistance: Int = 2) -> String? {
        let letters = Array(word.unicodeScalars)
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(letters, Array(candidate.unicodeScalars))
            // Two edits turn any three-letter word into many others (`foo` → `geo`), so short words
            // must keep more than half their letters to count as a typo.
            guard distance <= maxDistance, distance * 2 < max(letters.count, 2) else { continue }
            if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best?.name
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit (optimal string
    /// alignment), since swapped letters are the most common typo.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, table[i - 2][j - 2] + 1)
                }
                table[i][j] = value
            }
        }
        return table[a.count][b.count]
    }

    /// `"; did you mean 'x'?"` or empty.
    static func hint(for word: String, in candidates: [String]) -> String {
        guard let match = closest(to: word, in: candidates), match != word else { return "" }
        return "; did you mean '\(match)'?"
    }
}

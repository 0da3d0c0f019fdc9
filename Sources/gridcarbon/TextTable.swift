/// Rows of text in aligned columns, as `cat` and `alerts` print them: each column as wide as its
/// widest cell, two spaces between columns, some columns right-aligned (numbers).
struct TextTable {
    /// The rows, the header first. The header's cells are the columns; a cell beyond them is left out.
    var rows: [[String]]
    /// Whether cells of column `i` are right-aligned.
    var rightAligned: (Int) -> Bool
    /// Whether a row's last cell is padded to its column's width like the others (`cat`), or
    /// printed as it is (`alerts`: a free-text message that would only add trailing spaces).
    var padsLastCell = true

    /// The table as lines, without newlines.
    var lines: [String] {
        guard let header = rows.first else { return [] }
        let columns = header.count
        let measured = padsLastCell ? columns : columns - 1
        var widths = [Int](repeating: 0, count: columns)
        for r in rows { for (i, c) in r.enumerated() where i < measured { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            var line = ""
            for (i, c) in r.enumerated() where i < columns {
                if !padsLastCell && i == r.count - 1 { line += c; break }
                let padding = String(repeating: " ", count: widths[i] - c.count)
                line += (rightAligned(i) ? padding + c : c + padding) + (i + 1 < r.count ? "  " : "")
            }
            return line
        }
    }
}

/// Splits a command line the way a POSIX shell splits words, without expanding anything: white space separates
/// words; single quotes keep text literally; double quotes keep text with `\"`, `\\`, `\$` and `` \` `` escapes;
/// a backslash outside quotes keeps the next character.
///
/// ```swift
/// try ShellWords.split("uvx mcp-server-git --repository '/tmp/my repo'")
/// // ["uvx", "mcp-server-git", "--repository", "/tmp/my repo"]
/// ```
public enum ShellWords {
    /// Throws `mcp-spawn-failed` for an unterminated quote or a trailing backslash.
    public static func split(_ line: String) throws(MCPClientError) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var iterator = line.makeIterator()
        while let c = iterator.next() {
            switch c {
            case " ", "\t", "\n":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "'":
                inWord = true
                var closed = false
                while let d = iterator.next() {
                    if d == "'" {
                        closed = true
                        break
                    }
                    word.append(d)
                }
                guard closed else { throw MCPClientError(.spawnFailed, "unterminated `'` in the command") }
            case "\"":
                inWord = true
                var closed = false
                while let d = iterator.next() {
                    if d == "\"" {
                        closed = true
                        break
                    }
                    if d == "\\" {
                        guard let e = iterator.next() else { break }
                        if !"\"\\$`".contains(e) { word.append("\\") }
                        word.append(e)
                    } else {
                        word.append(d)
                    }
                }
                guard closed else { throw MCPClientError(.spawnFailed, "unterminated `\"` in the command") }
            case "\\":
                guard let d = iterator.next() else {
                    throw MCPClientError(.spawnFailed, "the command ends with a backslash")
                }
                inWord = true
                word.append(d)
            default:
                inWord = true
                word.append(c)
            }
        }
        if inWord { words.append(word) }
        return words
    }
}

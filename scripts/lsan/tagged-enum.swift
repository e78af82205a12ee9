// LeakSanitizer false positive on Swift multi-payload enums: the object below is alive (a global holds it), yet
// LeakSanitizer reports it as a direct leak, because the enum's case is stored in the reference's spare bits.
// Run: scripts/lsan/repro.sh — it prints "false positive reproduced" when LeakSanitizer reports the Box.
final class Box { var values = [1, 2, 3] }
struct Payload { var values: [Int] }
enum Source { case fixed(Payload), shared(Box) }
final class Holder { let source: Source; init(_ source: Source) { self.source = source } }
nonisolated(unsafe) var kept: [Holder] = []
@inline(never) func keep() { kept.append(Holder(.shared(Box()))) }
keep()
print("holding \(kept.count) box")

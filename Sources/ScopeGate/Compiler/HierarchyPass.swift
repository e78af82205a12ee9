/// Pass 3, hierarchy: the implication graph (`implies`, `deprecated.use`, wildcard coverage) must be acyclic.
/// Closures themselves are computed when the model is lowered.
enum HierarchyPass {
    static func run(_ state: inout CompilerState) {
        let scopes = state.model.scopes
        let index = state.model.scopeIndex
        var edges = [[Int]](repeating: [], count: scopes.count)
        for (i, scope) in scopes.enumerated() {
            edges[i] = scope.implies.compactMap { index[$0] }
            if scope.isWildcard { edges[i] += scope.covers.compactMap { index[$0] } }
        }
        for component in stronglyConnectedComponents(edges) {
            let isCycle = component.count > 1 || edges[component[0]].contains(component[0])
            guard isCycle else { continue }
            // Walk the cycle in edge order from its first-declared member, for a readable path.
            let members = Set(component)
            let start = component.min() ?? component[0]
            var path = [start]
            var current = start
            while path.count <= component.count {
                guard
                    let next = edges[current].first(where: {
                        members.contains($0) && ($0 == start || !path.contains($0))
                    })
                        ?? edges[current].first(where: { members.contains($0) })
                else { break }
                path.append(next)
                if next == start { break }
                current = next
            }
            let names = path.map { "`\(scopes[$0].name)`" }.joined(separator: " → ")
            let first = scopes[start]
            let loc =
                zip(first.implies, first.impliesLocations).first { members.contains(index[$0.0] ?? -1) }?.1
                ?? first.location
            state.report(
                .implicationCycle, "implication cycle: \(names)", at: loc,
                help:
                    "implication must be one-way; remove one edge of the cycle (scopes that are equal should be one scope, the other `deprecated: { use: … }`)"
            )
        }
    }

    /// Tarjan's algorithm, iterative (cycles of any length cannot overflow the stack).
    static func stronglyConnectedComponents(_ edges: [[Int]]) -> [[Int]] {
        let n = edges.count
        var indexOf = [Int](repeating: -1, count: n)
        var low = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n)
        var stack: [Int] = []
        var result: [[Int]] = []
        var counter = 0
        for root in 0..<n where indexOf[root] < 0 {
            var work: [(node: Int, edge: Int)] = [(root, 0)]
            indexOf[root] = counter
            low[root] = counter
            counter += 1
            stack.append(root)
            onStack[root] = true
            while let (node, edge) = work.last {
                if edge < edges[node].count {
                    work[work.count - 1].edge += 1
                    let next = edges[node][edge]
                    if indexOf[next] < 0 {
                        indexOf[next] = counter
                        low[next] = counter
                        counter += 1
                        stack.append(next)
                        onStack[next] = true
                        work.append((next, 0))
                    } else if onStack[next] {
                        low[node] = min(low[node], indexOf[next])
                    }
                } else {
                    work.removeLast()
                    if let parent = work.last { low[parent.node] = min(low[parent.node], low[node]) }
                    if low[node] == indexOf[node] {
                        var component: [Int] = []
                        while let top = stack.popLast() {
                            onStack[top] = false
                            component.append(top)
                            if top == node { break }
                        }
                        result.append(component)
                    }
                }
            }
        }
        return result
    }
}

// FoundationNetworking's per-request libcurl leak (see suppressions.txt). Used by repro.sh:
//   curl-leak N [shared]   makes N GET requests to http://127.0.0.1:18777/, one session each or one shared.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
let n = Int(CommandLine.arguments[1]) ?? 1
let shared = CommandLine.arguments.count > 2
let config = URLSessionConfiguration.ephemeral
let one = URLSession(configuration: config)
let done = DispatchSemaphore(value: 0)
guard let url = URL(string: "http://127.0.0.1:18777/") else { exit(2) }
Task {
    for _ in 0..<n {
        let session = shared ? one : URLSession(configuration: config)
        _ = try? await session.data(for: URLRequest(url: url))
        if !shared { session.finishTasksAndInvalidate() }
    }
    done.signal()
}
done.wait()
print("done \(n)")

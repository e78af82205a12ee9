import Foundation
import ScopeGateBundleSource
import ScopeGateTesting
import Testing

@Suite struct BundlePollScheduleTests {
    let schedule = BundlePollSchedule(interval: .seconds(30))

    @Test func jitterStaysWithinTenPercentAndSpreadsAFleet() {
        var random = SplitMix64(seed: 22)
        var delays: [Duration] = []
        for _ in 0..<2_000 {
            let draw = Double.random(in: 0..<1, using: &random)
            delays.append(schedule.delay(failures: 0, maxAge: nil, draw: draw))
        }
        #expect(delays.allSatisfy { $0 >= .seconds(27) && $0 <= .seconds(33) })
        // Both ends of the band are reached: the jitter does spread polls, not only bound them.
        #expect(delays.contains { $0 < .milliseconds(27_300) } && delays.contains { $0 > .milliseconds(32_700) })
        #expect(schedule.delay(failures: 0, maxAge: nil, draw: 0) == .seconds(27))
        #expect(schedule.delay(failures: 0, maxAge: nil, draw: 0.5) == .seconds(30))
        #expect(schedule.delay(failures: 0, maxAge: nil, draw: 1) == .seconds(33))
    }

    @Test func backoffDoublesPerFailureUpToItsCap() {
        let base = (0...8).map { schedule.baseDelay(failures: $0, maxAge: nil) }
        #expect(base == [30, 60, 120, 240, 300, 300, 300, 300, 300].map { Duration.seconds($0) })
        // A long interval is never shortened by the cap.
        let slow = BundlePollSchedule(interval: .seconds(600))
        #expect(slow.baseDelay(failures: 3, maxAge: nil) == .seconds(600))
        // A huge failure count does not overflow.
        #expect(schedule.baseDelay(failures: .max, maxAge: nil) == .seconds(300))
        // Backoff ignores max-age: a failing server's old cache lifetime says nothing.
        #expect(schedule.baseDelay(failures: 1, maxAge: .seconds(3000)) == .seconds(60))
    }

    @Test func maxAgeIsRespectedBetweenTheIntervalAndTenIntervals() {
        #expect(schedule.baseDelay(failures: 0, maxAge: .seconds(120)) == .seconds(120))
        #expect(schedule.baseDelay(failures: 0, maxAge: .seconds(5)) == .seconds(30))
        #expect(schedule.baseDelay(failures: 0, maxAge: .seconds(0)) == .seconds(30))
        #expect(schedule.baseDelay(failures: 0, maxAge: .seconds(86_400)) == .seconds(300))
    }

    @Test func cacheControlIsReadForMaxAgeOnly() {
        #expect(BundlePollSchedule.maxAge(cacheControl: "max-age=120") == .seconds(120))
        #expect(BundlePollSchedule.maxAge(cacheControl: "public, Max-Age=60, must-revalidate") == .seconds(60))
        #expect(BundlePollSchedule.maxAge(cacheControl: "max-age=\"90\"") == .seconds(90))
        #expect(BundlePollSchedule.maxAge(cacheControl: "no-cache, max-age=600") == nil)
        #expect(BundlePollSchedule.maxAge(cacheControl: "no-store") == nil)
        #expect(BundlePollSchedule.maxAge(cacheControl: "max-age=-1") == nil)
        #expect(BundlePollSchedule.maxAge(cacheControl: "max-age=soon") == nil)
        #expect(BundlePollSchedule.maxAge(cacheControl: "public") == nil)
        #expect(BundlePollSchedule.maxAge(cacheControl: nil) == nil)
    }
}

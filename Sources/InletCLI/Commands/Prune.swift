import ArgumentParser
import AsyncHTTPClient
import Foundation
import InletConfig
import InletCore
import InletServer
import InletStore
import Logging
import NIOCore
import NIOPosix
import UnixSignals

struct Prune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply retention now: delete idempotency keys and delivered events older than their windows.")
    @OptionGroup var options: ConfigOption
    @Flag(help: "Only show what would go.") var dryRun = false

    func run() async throws {
        let config = try options.load()
        let store: any StoreMaintenance = try openStoreForReading(config)
        let now = SystemClock().now()
        let eventCutoff = now - Int64(config.store.eventRetentionDays) * 86_400_000
        let keyCutoff = now - Int64(config.store.idempotencyRetentionDays) * 86_400_000
        let (events, keys) = try store.prunable(eventsBefore: eventCutoff, idempotencyKeysBefore: keyCutoff)
        let quarantined = try store.expiredQuarantine(now: now)
        if dryRun {
            print("would delete \(events) event(s) received before \(RFC3339.format(eventCutoff)) (all deliveries finished), \(keys) idempotency key(s) last seen before \(RFC3339.format(keyCutoff)) and \(quarantined) expired quarantine entr(ies)")
            return
        }
        var deleted = 0, forgotten = 0, expired = 0
        while case let n = try store.pruneEvents(receivedBefore: eventCutoff, limit: 500), n > 0 { deleted += n }
        while case let n = try store.pruneIdempotencyKeys(lastSeenBefore: keyCutoff, limit: 500), n > 0 { forgotten += n }
        while case let n = try store.pruneQuarantine(expiredBy: now, limit: 500), n > 0 { expired += n }
        print("deleted \(deleted) event(s), \(forgotten) idempotency key(s) and \(expired) quarantine entr(ies)")
    }
}

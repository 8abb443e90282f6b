/// Where a reader of the change sequence stands, so that it never skips a change.
///
/// Sequence values are taken when a change is written but become visible when its
/// transaction commits, so commits come out of seq order: a reader that has seen 7 may see 6
/// later. Every seq below the newest seen that has not been seen is a gap, asked for again
/// at each read (`missing`) until it turns up or has been missing for `gapLifetime` (longer
/// than any transaction that writes a change runs): then it was rolled back (or its value
/// was skipped) and is given up.
///
/// Gaps are kept as ranges, so a sequence that jumps (a crash skips up to 32 values, a
/// `setval`) costs one entry, not one per value.
public struct ChangeCursor: Sendable, Equatable {
    /// A run of seqs not seen yet, and when the reader first found them missing.
    public struct Gap: Sendable, Equatable {
        public var seqs: ClosedRange<Int64>
        public var since: ContinuousClock.Instant
    }

    /// The highest seq seen.
    public private(set) var newest: Int64
    /// Seqs below `newest` not seen yet, lowest first.
    public private(set) var gaps: [Gap] = []
    public let gapLifetime: Duration
    /// The most gaps kept: beyond it the oldest are given up first (each is asked for at every read).
    public static let maxGaps = 10_000

    /// A reader that has seen every change up to `seq`.
    public init(after seq: Int64, gapLifetime: Duration) {
        newest = seq
        self.gapLifetime = gapLifetime
    }

    /// Every seq up to this one has been seen or given up.
    public var delivered: Int64 { gaps.first.map { $0.seqs.lowerBound - 1 } ?? newest }

    /// The ranges to ask for again, besides what follows `newest`.
    public var missing: [ClosedRange<Int64>] { gaps.map(\.seqs) }

    /// True when the change `seq` has been seen (or given up).
    public func hasSeen(_ seq: Int64) -> Bool {
        seq <= newest && !gaps.contains { $0.seqs.contains(seq) }
    }

    /// Takes the changes a read returned (what follows `newest` and what fills gaps, in any
    /// order, repeats allowed) and returns those not seen before, in seq order; seqs skipped
    /// over become gaps found missing at `now`.
    public mutating func advance(with changes: [Change], now: ContinuousClock.Instant) -> [Change] {
        var fresh: [Change] = []
        for change in changes.sorted(by: { $0.seq < $1.seq }) where !hasSeen(change.seq) {
            if change.seq > newest {
                if change.seq > newest + 1 { gaps.append(Gap(seqs: (newest + 1)...(change.seq - 1), since: now)) }
                newest = change.seq
            } else {
                fill(change.seq)
            }
            fresh.append(change)
        }
        return fresh
    }

    /// Gives up the gaps missing for longer than `gapLifetime` at `now`, and the oldest beyond
    /// `maxGaps`; returns them.
    public mutating func expire(now: ContinuousClock.Instant) -> [ClosedRange<Int64>] {
        let expired = gaps.enumerated().filter { index, gap in now - gap.since > gapLifetime || index < gaps.count - Self.maxGaps }
        // Gaps are found in seq order, so the lower a gap the older: the expired ones lead.
        gaps.removeFirst(expired.count)
        return expired.map(\.element.seqs)
    }

    private mutating func fill(_ seq: Int64) {
        guard let index = gaps.firstIndex(where: { $0.seqs.contains(seq) }) else { return }
        let gap = gaps[index]
        var pieces: [Gap] = []
        if gap.seqs.lowerBound < seq { pieces.append(Gap(seqs: gap.seqs.lowerBound...(seq - 1), since: gap.since)) }
        if seq < gap.seqs.upperBound { pieces.append(Gap(seqs: (seq + 1)...gap.seqs.upperBound, since: gap.since)) }
        gaps.replaceSubrange(index...index, with: pieces)
    }
}

import BBCSCore
import Testing

/// The gap tracker of the change stream: seqs commit out of order, and the stream must
/// neither skip one that commits late nor wait forever for one that never commits.
@Suite("change cursor")
struct ChangeCursorTests {
    let start = ContinuousClock.now

    func changes(_ seqs: Int64...) -> [Change] {
        seqs.map { Change(seq: $0, at: "2026-07-14T09:30:00", kind: .figureSubmitted) }
    }

    @Test func contiguousChangesAdvanceWithoutGaps() {
        var cursor = ChangeCursor(after: 4, gapLifetime: .seconds(60))
        #expect(cursor.advance(with: changes(5, 6, 7), now: start).map(\.seq) == [5, 6, 7])
        #expect(cursor.newest == 7)
        #expect(cursor.delivered == 7)
        #expect(cursor.missing.isEmpty)
    }

    @Test func aSeqSkippedOverIsAskedForUntilItCommitsAndThenDeliveredOnce() {
        var cursor = ChangeCursor(after: 4, gapLifetime: .seconds(60))
        #expect(cursor.advance(with: changes(5, 7), now: start).map(\.seq) == [5, 7])
        #expect(cursor.missing == [6...6])
        #expect(cursor.delivered == 5)
        #expect(cursor.hasSeen(7))
        #expect(!cursor.hasSeen(6))
        // The late commit arrives with the next read, alongside what follows.
        #expect(cursor.advance(with: changes(8, 6), now: start + .seconds(1)).map(\.seq) == [6, 8])
        #expect(cursor.missing.isEmpty)
        #expect(cursor.delivered == 8)
        // A repeat (read again by the gap query and the tail query) is not delivered twice.
        #expect(cursor.advance(with: changes(6, 8), now: start + .seconds(2)).isEmpty)
    }

    @Test func aFilledSeqSplitsItsRangeAndKeepsItsAge() {
        var cursor = ChangeCursor(after: 0, gapLifetime: .seconds(60))
        _ = cursor.advance(with: changes(10), now: start)
        #expect(cursor.missing == [1...9])
        _ = cursor.advance(with: changes(1, 5, 9), now: start + .seconds(30))
        #expect(cursor.missing == [2...4, 6...8])
        #expect(cursor.gaps.allSatisfy { $0.since == start })
        #expect(cursor.delivered == 1)
    }

    @Test func aSeqThatNeverCommitsIsGivenUpAfterItsLifetime() {
        var cursor = ChangeCursor(after: 0, gapLifetime: .seconds(60))
        _ = cursor.advance(with: changes(2), now: start)
        _ = cursor.advance(with: changes(4), now: start + .seconds(30))
        #expect(cursor.expire(now: start + .seconds(59)).isEmpty)
        #expect(cursor.expire(now: start + .seconds(61)) == [1...1])
        #expect(cursor.missing == [3...3])
        #expect(cursor.delivered == 2)
        #expect(cursor.expire(now: start + .seconds(91)) == [3...3])
        #expect(cursor.delivered == 4)
        // A seq given up is one the cursor counts as seen: it is not delivered if it turns up after all.
        #expect(cursor.advance(with: changes(3), now: start + .seconds(92)).isEmpty)
    }

    @Test func aJumpOfTheSequenceCostsOneGapAndTheOldestGoFirstBeyondTheCap() {
        var cursor = ChangeCursor(after: 0, gapLifetime: .seconds(60))
        _ = cursor.advance(with: changes(1_000_000_000), now: start)
        #expect(cursor.missing == [1...999_999_999])
        var seq: Int64 = 1_000_000_000
        for _ in 0..<ChangeCursor.maxGaps {
            seq += 2
            _ = cursor.advance(with: changes(seq), now: start)
        }
        #expect(cursor.gaps.count == ChangeCursor.maxGaps + 1)
        #expect(cursor.expire(now: start) == [1...999_999_999])
        #expect(cursor.gaps.count == ChangeCursor.maxGaps)
    }
}

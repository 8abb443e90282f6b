// The plan loader: an input is a plan data file's bytes. Any input loads or is refused with
// a PlanFileError (the only error `load` can throw); one that loads must also
// - load again, equal, from its own encoding (nothing read is lost or changed on the way);
// - hold only finite numbers;
// - survive the period and date arithmetic the daemon does on every read of a plan: each
//   year from first to last, each period named by a figure or target, each task and
//   renewal date, with the reminder offsets before them.
import BBCSCore
import CLibFuzzer
import Foundation

func periods(_ document: PlanDocument) -> [Period] {
    var named = Period.years(from: document.plan.firstYear, through: document.plan.lastYear)
    for indicator in document.indicators {
        named += indicator.actuals.keys.compactMap(Period.init) + indicator.targets.keys.compactMap(Period.init)
    }
    return named
}

func check(_ document: PlanDocument) {
    guard let encoded = try? JSONEncoder().encode(document) else { fatalError("a loaded plan does not encode") }
    do {
        let again = try PlanDocument.load(from: encoded)
        guard again == document else { fatalError("a loaded plan reads back different from its own encoding") }
    } catch {
        fatalError("a loaded plan's own encoding is refused: \(error)")
    }
    let numbers = document.indicators.flatMap { [$0.tolerance] + Array($0.actuals.values) + Array($0.targets.values) }
        + document.budget.flatMap { Array($0.amounts.values) }
    if let bad = numbers.compactMap({ $0 }).first(where: { !$0.isFinite }) { fatalError("a loaded plan holds \(bad)") }

    for period in periods(document) {
        guard Period(period.description) == period else { fatalError("period \(period) does not read back") }
        _ = (period.start, period.end, period.previous.start, period.yearEarlier.end, period.year.description)
    }
    let dates = document.tasks.compactMap(\.targetDate) + document.strategies.compactMap(\.renewalDate)
    for date in dates {
        guard CalendarDate(iso: date.description) == date else { fatalError("date \(date) does not read back") }
        for days in [-28, -7, -1, 0, 7] { _ = date.adding(days: days).description }
        _ = (Period.containing(date, quarterly: true), Period.containing(date, quarterly: false))
    }
    _ = document.canonicalPostNames
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    do {
        check(try PlanDocument.load(from: Data(UnsafeBufferPointer(start: data, count: size))))
    } catch {
        _ = error.description  // refused: the message the client shows must render too
    }
    return 0
}

// SwiftPM makes this module's entry point the executable's `main`.
@_cdecl("FuzzPlanDocument_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) }
}

import Foundation

// SQL pieces the stores share.

/// An instant, bound as seconds since 1970 (NULL when nil).
func timestamp(_ instant: Date?) -> PGQuery {
    "to_timestamp(\(instant?.timeIntervalSince1970)::double precision)"
}

/// A timestamptz column as Europe/London wall-clock text, `2026-03-04T09:05:00`.
func londonTime(_ column: PGQuery) -> PGQuery {
    #"to_char(\#(column) AT TIME ZONE 'Europe/London', 'YYYY-MM-DD"T"HH24:MI:SS')"#
}

/// A date column as ISO text, `2026-03-31`, for every date PostgreSQL holds (to 5874897):
/// `to_char` goes through a timestamp, which ends in 294276, so one date stored beyond it
/// would fail the whole read.
func isoDate(_ column: PGQuery) -> PGQuery {
    """
    (SELECT lpad(y::text, greatest(4, length(y::text)), '0') || '-' || lpad(m::text, 2, '0') || '-' || lpad(d::text, 2, '0')
     FROM (SELECT extract(year FROM \(column))::int AS y, extract(month FROM \(column))::int AS m, extract(day FROM \(column))::int AS d) ymd)
    """
}

/// A Core record read from a row's columns, with the `owner` column beside it: the
/// indicator a figure belongs to, the task a change belongs to.
struct Owned<Owner: Decodable, Record: Decodable>: Decodable {
    let owner: Owner
    let record: Record

    private enum CodingKeys: String, CodingKey { case owner }

    init(from decoder: Decoder) throws {
        owner = try decoder.container(keyedBy: CodingKeys.self).decode(Owner.self, forKey: .owner)
        record = try Record(from: decoder)
    }
}

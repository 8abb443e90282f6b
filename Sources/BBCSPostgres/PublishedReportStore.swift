import BBCSCore
import Foundation

/// Published reports: written once with their documents, digests and figures, read back
/// byte for byte.
public struct PublishedReportStore: Sendable {
    let pool: PGPool
    /// Serialises publications, so each round's numbers run 1, 2, 3 without a gap or a twin.
    static let lockKey = 0x6262_6373_7075_626c  // "bbcspubl"

    public init(pool: PGPool) { self.pool = pool }

    /// A report ready to be frozen: its documents and the figures it shows.
    public struct Frozen: Sendable {
        public var publication: Publication
        public var json: String
        public var html: String
        public init(publication: Publication, json: String, html: String) { self.publication = publication; self.json = json; self.html = html }
    }

    /// Publishes what `freeze` makes of the round with `roundID` given its ordinal (1 for the
    /// round's first publication), with its audit and change rows; the digests are
    /// PostgreSQL's, of the text as stored.
    public func publish(roundID: Int, by actor: Actor,
                        _ freeze: @escaping @Sendable (_ ordinal: Int, Actor) throws -> Frozen) async throws -> Publication {
        try await pool.keyedTransaction(confirming: actor) { db, actor, key in
            try db.execute("SELECT pg_advisory_xact_lock(\(Self.lockKey))")
            let ordinal = try db.one(Int.self, "SELECT count(*)::int + 1 FROM published_reports WHERE round_id = \(roundID)")
            let frozen = try freeze(ordinal, actor)
            var publication = frozen.publication
            let row = try db.one(Digests.self, """
                INSERT INTO published_reports (number, round_id, report_json, report_html, json_sha256, html_sha256, published_by, published_at,
                                               risk_scores, restatements)
                VALUES (\(publication.number), \(roundID), \(frozen.json), \(frozen.html),
                        encode(sha256(convert_to(\(frozen.json)::text, 'UTF8')), 'hex'), encode(sha256(convert_to(\(frozen.html)::text, 'UTF8')), 'hex'),
                        \(publication.publishedBy), \(timestamp(actor.recordedAt)), \(jsonText(publication.riskScores))::jsonb,
                        \(jsonText(publication.restatements))::jsonb)
                RETURNING id, json_sha256, html_sha256
                """)
            publication.jsonSHA256 = row.jsonSHA256
            publication.htmlSHA256 = row.htmlSHA256
            for figure in publication.figures {
                try db.execute("""
                    INSERT INTO published_figures (report_id, indicator_id, period, revision, value, provisional)
                    SELECT \(row.id), i.id, \(figure.period), \(figure.revision), \(figure.value)::numeric, \(figure.provisional)
                    FROM indicators i JOIN plans p ON p.id = i.plan_id WHERE p.code = \(publication.plan) AND i.code = \(figure.indicator)
                    """)
            }
            try AuditLog.record(db, actor, object: publication.number, after: publication,
                                message: "\(publication.number) published for \(publication.meeting)")
            try ChangeLog.record(db, .reportPublished, login: actor.principal.login, detail: .object([
                "report": .string(publication.number), "period": .string(publication.period.description),
                "meeting": .string(publication.meeting),
            ]), key: key)
            return publication
        }
    }

    private struct Digests: Decodable {
        let id: Int
        let jsonSHA256: String
        let htmlSHA256: String
    }

    private struct Documents: Decodable {
        let reportJSON: String
        let reportHTML: String
    }

    /// The documents of the report with `number`, exactly as published.
    public func documents(number: String) async throws -> (json: String, html: String) {
        try await pool.withConnection { db in
            guard let row = try db.first(Documents.self, "SELECT report_json, report_html FROM published_reports WHERE number = \(number)") else {
                throw StoreError.notFound(kind: "published report", key: number)
            }
            return (row.reportJSON, row.reportHTML)
        }
    }
}

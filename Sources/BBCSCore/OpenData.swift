import Foundation

/// The open-data form of bbcs's CSV files, for publishing under the Local Government
/// Transparency Code: RFC 4180 text in UTF-8 with one header row of stable snake_case
/// column names, ISO 8601 dates (`2025-04-01`), numbers without thousands separators or
/// units, each file described by W3C CSV on the Web metadata (the Metadata Vocabulary for
/// Tabular Data, W3C Recommendation 2015) naming its columns, their types and its licence,
/// the Open Government Licence v3.0.
public struct OpenData: Sendable, Equatable {
    public struct Column: Sendable, Equatable {
        public var name: String
        /// A CSVW datatype: string, number, integer, date or boolean (written yes/no).
        public var datatype: String
        public var description: String
        public var required: Bool
        public init(_ name: String, _ datatype: String, required: Bool = false, _ description: String) {
            self.name = name; self.datatype = datatype; self.description = description; self.required = required
        }
    }

    public var columns: [Column]

    public static let licence = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"

    /// `figure export`: one line per figure, as `FigureCSV.columns`.
    public static let figures = OpenData(columns: [
        Column("plan", "string", required: true, "the business plan's code"),
        Column("code", "string", required: true, "the indicator's code in its plan"),
        Column("period", "string", required: true, "the financial year (2025/26) or quarter (2025/26 Q2) the figure is for"),
        Column("period_start", "date", "the period's first day"),
        Column("period_end", "date", "the period's last day"),
        Column("value", "number", required: true, "the figure; a percentage is its number of percent"),
        Column("note", "string", "the owner's commentary"),
        Column("forecast", "number", "the owner's forecast of the year-end figure"),
        Column("provisional", "boolean", "yes while the figure awaits confirmation"),
        Column("reason", "string", "why a figure was corrected (empty in an export)"),
    ])

    /// `report --format csv`: one line per indicator and per key task of the report, as its headers.
    public static let report = OpenData(columns: [
        Column("plan", "string", required: true, "the business plan's code"),
        Column("record", "string", required: true, "indicator or task"),
        Column("section", "string", required: true, "the report section (objective code) the line is in"),
        Column("code", "string", required: true, "the indicator's or task's code"),
        Column("title", "string", "the indicator's title or the task's action"),
        Column("period", "string", "the period reported"),
        Column("period_start", "date", "the period's first day"),
        Column("period_end", "date", "the period's last day"),
        Column("figure", "number", "the current figure"),
        Column("target", "number", "the target that counts for the period"),
        Column("rag", "string", "green, amber, red, or grey where it cannot be judged"),
        Column("since_previous", "string", "direction of travel since the previous period"),
        Column("since_year_earlier", "string", "direction of travel since the same period a year earlier"),
        Column("year_to_date", "number", "the year's figures so far, summed or averaged as the unit requires"),
        Column("due_date", "date", "the day the figure is due"),
        Column("overdue", "boolean", "the figure is past due, or the task past its target date"),
        Column("validated", "boolean", "an administrator has checked the figure"),
        Column("late", "boolean", "the figure came after its due date"),
        Column("provisional", "boolean", "the figure awaits confirmation"),
        Column("forecast", "number", "the owner's year-end forecast"),
        Column("annual_target", "number", "the year's target"),
        Column("forecast_rag", "string", "the forecast judged against the year's target"),
        Column("owner", "string", "the post that owns the indicator"),
        Column("commentary", "string", "the owner's note, or the task's latest progress note"),
        Column("status", "string", "the task's status"),
        Column("progress", "integer", "the task's percent complete"),
        Column("target_date", "date", "the task's target date"),
        Column("overdue_days", "integer", "days the task is past its target date"),
        Column("slipped_times", "integer", "times the task's target date was moved"),
        Column("slipped_days", "integer", "days the moves added"),
        Column("responsible", "string", "the posts responsible for the task, separated by semicolons"),
    ])

    public var names: [String] { columns.map(\.name) }

    /// The CSVW metadata document of a file named `csv` (relative to the metadata's own
    /// place), published by `publisher`.
    public func metadata(csv: String, publisher: String, title: String) -> String {
        func json(_ value: Any) -> String {
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data ?? Data(), as: UTF8.self) + "\n"
        }
        return json([
            "@context": "http://www.w3.org/ns/csvw",
            "url": csv,
            "dc:title": title,
            "dc:publisher": publisher,
            "dc:license": ["@id": Self.licence],
            "dialect": ["encoding": "utf-8", "header": true, "lineTerminators": ["\r\n"], "delimiter": ","],
            "tableSchema": ["columns": columns.map { column in
                [
                    "name": column.name, "titles": column.name, "dc:description": column.description, "required": column.required,
                    "datatype": column.datatype == "boolean" ? ["base": "boolean", "format": "yes|no"] as [String: Any]
                        : column.datatype == "date" ? ["base": "date", "format": "yyyy-MM-dd"] as [String: Any] : ["base": column.datatype],
                ] as [String: Any]
            }],
        ] as [String: Any])
    }
}

import KakehashiShared

extension IndicatorReport {
    /// One row per fiscal year, program and prefecture, one column per metric (the `indicators`
    /// file of an export, and `indicators --csv`).
    public func table() -> ExportTable {
        let columns: [ExportTable.Column] =
            [
                .init("fiscal_year", "年度"), .init("ministry", "所管"), .init("program", "事業"),
                .init("prefecture", "都道府県"),
            ] + Metric.allCases.map { .init($0.rawValue, $0.label) }
        var table = ExportTable(name: "indicators", columns: columns)
        for row in rows {
            var cells: [String: ExportTable.Cell] = [
                "fiscal_year": .integer(Int64(row.fiscalYear)),
                "ministry": .coded(row.ministry, Domains.ministry),
                "program": programCell(row.program),
                "prefecture": .code(
                    row.prefecture ?? "unknown",
                    label: row.prefecture.flatMap { Domains.prefecture.label(of: $0) } ?? "不明"),
            ]
            for metric in Metric.allCases { cells[metric.rawValue] = .integer(Int64(row.count(metric))) }
            table.append(cells)
        }
        return table
    }

    /// Referrals between programs: one row per fiscal year and (from, to) pair (the `referrals`
    /// file of an export).
    public func referralTable() -> ExportTable {
        var table = ExportTable(
            name: "referrals",
            columns: [
                .init("fiscal_year", "年度"), .init("from_program", "紹介元の事業"), .init("from_ministry", "紹介元の所管"),
                .init("to_program", "紹介先の事業"), .init("to_ministry", "紹介先の所管"), .init("referrals", "紹介件数"),
            ])
        for referral in referrals {
            table.append([
                "fiscal_year": .integer(Int64(referral.fiscalYear)),
                "from_program": programCell(referral.fromProgram),
                "from_ministry": .coded(programs[referral.fromProgram]?.ministry ?? "other", Domains.ministry),
                "to_program": programCell(referral.toProgram),
                "to_ministry": .coded(programs[referral.toProgram]?.ministry ?? "other", Domains.ministry),
                "referrals": .integer(Int64(referral.count)),
            ])
        }
        return table
    }

    func programCell(_ program: String) -> ExportTable.Cell {
        .code(program, label: programs[program]?.name ?? program)
    }

    /// The name of a program for people.
    public func programName(_ program: String) -> String { programs[program]?.name ?? program }

    /// The rows of one fiscal year and program summed over prefectures.
    public func programTotals(fiscalYear: Int) -> [(program: String, counts: [Metric: Int])] {
        var byProgram: [String: [Metric: Int]] = [:]
        for row in rows where row.fiscalYear == fiscalYear {
            for metric in Metric.allCases {
                byProgram[row.program, default: [:]][metric, default: 0] += row.count(metric)
            }
        }
        return byProgram.sorted { lhs, rhs in
            let left = (programs[lhs.key]?.ministry ?? "", lhs.key)
            let right = (programs[rhs.key]?.ministry ?? "", rhs.key)
            return left < right
        }.map { ($0.key, $0.value) }
    }
}

import KakehashiShared

extension AdminService {
    /// What `import seeds` did.
    public struct SeedImportOutcome: Sendable, Encodable {
        /// The new seeds' ids, in file order.
        public let imported: [String]
        /// Lines of seeds already in the store (same title and holder), left alone.
        public let alreadyPresent: [Int]
        /// Organizations created for holders not yet in the store.
        public let organizationsCreated: [String]
        /// Rows skipped as invalid (only with `--skip-invalid`).
        public let skipped: [SeedFile.Problem]
        /// Lines merged into an earlier row with the same title and holder.
        public let merged: [Int]
    }

    /// Imports a seed list in one transaction: all valid rows or, when any row is invalid and
    /// `skipInvalid` is false, nothing.
    ///
    /// A holder is matched to an existing organization by its exact (NFC) name; otherwise one is
    /// created with the row's `holder_kind` (or a kind guessed from the name: 大学 → university, …).
    /// Importing the same file twice adds nothing the second time.
    /// - Throws: `KakehashiError` (`.invalidData`, field `file`) listing every invalid row.
    public func importSeeds(_ file: SeedFile, name: String, skipInvalid: Bool) async throws -> SeedImportOutcome {
        if !file.problems.isEmpty, !skipInvalid {
            let listing = file.problems.map { "  \($0)" }.joined(separator: "\n")
            throw KakehashiError.invalid(
                "file",
                "\(name) has \(file.problems.count) invalid row(s); nothing was imported. Fix them, or pass --skip-invalid to import the rest:\n\(listing)"
            )
        }
        var organizations: [String: String] = [:]
        var names: [String: String] = [:]
        for state in try await store.records(.organization) where !state.isDeleted {
            guard let name = state.value("name").stringValue else { continue }
            names[state.id] = name
            if organizations[name] == nil { organizations[name] = state.id }
        }
        var existing = Set<String>()
        for state in try await store.records(.seed) where !state.isDeleted {
            let holderName = state.value("holder").stringValue.flatMap { names[$0] } ?? ""
            existing.insert((state.value("title").stringValue ?? "") + "\u{0}" + holderName)
        }

        var changes: [Change] = []
        var imported: [String] = []
        var created: [String] = []
        var present: [Int] = []
        var generator = SystemRandomNumberGenerator()
        for row in file.rows {
            if existing.contains((row.title.stringValue ?? "") + "\u{0}" + (row.holder ?? "")) {
                present.append(row.line)
                continue
            }
            var values: [(String, FieldValue)] = [("title", row.title), ("kind", row.kind)]
            if !row.description.isNull { values.append(("description", row.description)) }
            values.append(("licensable", .bool(row.licensable)))
            if let holder = row.holder {
                if organizations[holder] == nil {
                    let id = RecordID.uuidV7(unixMillis: now(), using: &generator)
                    var organization: [(String, FieldValue)] = [
                        ("name", .string(holder)),
                        ("kind", .string(row.holderKind ?? SeedFile.guessKind(ofHolder: holder))),
                    ]
                    if let prefecture = row.holderPrefecture {
                        organization.append(("prefecture", .string(prefecture)))
                    }
                    changes += try await makeChanges(.organization, id, organization, fresh: true)
                    organizations[holder] = id
                    created.append(id)
                }
                values.append(("holder", .string(organizations[holder]!)))
            }
            let id = RecordID.uuidV7(unixMillis: now(), using: &generator)
            changes += try await makeChanges(.seed, id, values, fresh: true)
            let elements =
                row.patentNumbers.map { ("patent_numbers", FieldValue.string($0)) }
                + row.tags.map { ("tags", FieldValue.string($0)) }
            changes += try await makeChanges(.seed, id, elements, op: .add, fresh: true)
            imported.append(id)
        }
        if !changes.isEmpty { try await write(changes) }
        return SeedImportOutcome(
            imported: imported, alreadyPresent: present, organizationsCreated: created,
            skipped: skipInvalid ? file.problems : [], merged: file.mergedLines)
    }
}

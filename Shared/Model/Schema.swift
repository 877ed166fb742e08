import Foundation

/// The field schema of every entity (Docs/design.md §4). This is the one place a field is
/// declared; validation, the client's tables, the wire format and exports all read it.
public enum Schema {
    public static let all: [EntitySchema] = Entity.allCases.map(entity)

    public static func entity(_ entity: Entity) -> EntitySchema {
        switch entity {
        case .advisor: advisor
        case .program: program
        case .organization: organization
        case .case: `case`
        case .event: event
        case .seed: seed
        case .need: need
        }
    }

    static let advisor = EntitySchema(
        .advisor,
        label: "支援人材",
        idFormat: .uuid,
        adminOnly: true,
        fields: [
            FieldSpec("name", label: "氏名", .text(maxLength: 100, multiline: false), required: true, searchable: true),
            FieldSpec("role", label: "役割", .enumeration(Domains.advisorRole), required: true),
            FieldSpec("program", label: "事業", .reference(.program), required: true),
            FieldSpec("prefecture", label: "都道府県", .enumeration(Domains.prefecture)),
            FieldSpec("contact", label: "連絡先", .text(maxLength: 200, multiline: false)),
            FieldSpec("active", label: "有効", .bool, default: .bool(true)),
        ]
    ).addingTestExtraField()

    static let program = EntitySchema(
        .program,
        label: "事業",
        idFormat: .slug,
        adminOnly: true,
        fields: [
            FieldSpec("name", label: "事業名", .text(maxLength: 100, multiline: false), required: true),
            FieldSpec("ministry", label: "所管", .enumeration(Domains.ministry), required: true),
        ]
    ).addingTestExtraField()

    static let organization = EntitySchema(
        .organization,
        label: "支援先・連携先",
        idFormat: .uuid,
        fields: [
            FieldSpec(
                "name", label: "名称", .text(maxLength: 200, multiline: false), required: true, searchable: true),
            FieldSpec("kind", label: "種別", .enumeration(Domains.organizationKind), required: true),
            FieldSpec("prefecture", label: "都道府県", .enumeration(Domains.prefecture)),
            FieldSpec("corporate_number", label: "法人番号", .corporateNumber, searchable: true),
            FieldSpec("sme_type", label: "中小企業類型", .enumeration(Domains.smeType)),
            FieldSpec("notes", label: "備考", .text(maxLength: 4000, multiline: true), searchable: true),
            // The organization this record was merged into (`org merge`): both are one company
            // (`OrganizationIdentity`).
            FieldSpec("merged_into", label: "統合先", .reference(.organization)),
        ]
    ).addingTestExtraField()

    static let `case` = EntitySchema(
        .case,
        label: "案件",
        idFormat: .uuid,
        fields: [
            FieldSpec("title", label: "件名", .text(maxLength: 200, multiline: false), required: true, searchable: true),
            FieldSpec("summary", label: "概要", .text(maxLength: 4000, multiline: true), searchable: true),
            FieldSpec("kind", label: "種別", .enumeration(Domains.caseKind), required: true, exposure: .stub),
            FieldSpec(
                "stage", label: "段階", .enumeration(Domains.caseStage), default: .string(CaseStage.intake.rawValue),
                exposure: .stub),
            FieldSpec(
                "level", label: "秘密区分", .enumeration(Domains.level),
                default: .string(ConfidentialityLevel.confidential.rawValue),
                exposure: .stub),
            FieldSpec("owner", label: "担当者", .reference(.advisor), exposure: .stub),
            FieldSpec("participants", label: "参加者", .referenceSet(.advisor), exposure: .stub),
            FieldSpec("organizations", label: "支援先", .referenceSet(.organization), exposure: .stub),
            FieldSpec("program", label: "事業", .reference(.program), exposure: .stub),
            FieldSpec("tags", label: "タグ", .stringSet(maxLength: 50), searchable: true),
            FieldSpec("license_signed", label: "ライセンス契約締結", .bool, default: .bool(false)),
            FieldSpec("amount_yen", label: "契約金額（円）", .yen),
            FieldSpec("product_launched", label: "製品化", .bool, default: .bool(false)),
            FieldSpec("good_practice", label: "好事例", .bool, default: .bool(false)),
        ]
    ).addingTestExtraField()

    static let event = EntitySchema(
        .event,
        label: "活動記録",
        idFormat: .uuid,
        fields: [
            FieldSpec("case", label: "案件", .reference(.case), required: true, exposure: .stub),
            FieldSpec("kind", label: "種別", .enumeration(Domains.eventKind), required: true),
            FieldSpec("date", label: "日付", .date, required: true),
            FieldSpec("author", label: "記録者", .reference(.advisor)),
            FieldSpec("participants", label: "参加者", .referenceSet(.advisor)),
            FieldSpec("body", label: "内容", .text(maxLength: 8000, multiline: true), required: true, searchable: true),
            FieldSpec("referred_to", label: "紹介先", .reference(.advisor)),
        ],
        rules: [
            .requiredWhen(field: "referred_to", otherField: "kind", equals: "referral")
        ]
    ).addingTestExtraField()

    static let seed = EntitySchema(
        .seed,
        label: "シーズ",
        idFormat: .uuid,
        fields: [
            FieldSpec("title", label: "名称", .text(maxLength: 200, multiline: false), required: true, searchable: true),
            FieldSpec("description", label: "説明", .text(maxLength: 4000, multiline: true), searchable: true),
            FieldSpec("holder", label: "保有機関", .reference(.organization)),
            FieldSpec("kind", label: "種別", .enumeration(Domains.seedKind), required: true),
            FieldSpec("patent_numbers", label: "特許番号", .stringSet(maxLength: 40), searchable: true),
            FieldSpec("tags", label: "タグ", .stringSet(maxLength: 50), searchable: true),
            FieldSpec("licensable", label: "ライセンス可", .bool, default: .bool(true)),
        ]
    ).addingTestExtraField()

    static let need = EntitySchema(
        .need,
        label: "ニーズ",
        idFormat: .uuid,
        fields: [
            FieldSpec("title", label: "名称", .text(maxLength: 200, multiline: false), required: true, searchable: true),
            FieldSpec("description", label: "説明", .text(maxLength: 4000, multiline: true), searchable: true),
            FieldSpec("organization", label: "企業・機関", .reference(.organization)),
            FieldSpec("tags", label: "タグ", .stringSet(maxLength: 50), searchable: true),
        ]
    ).addingTestExtraField()

    // MARK: - Test only

    /// The variable that adds a field for tests: `ENTITY.FIELD`, e.g. `case.test_extra`.
    public static let testExtraFieldVariable = "KAKEHASHI_TEST_EXTRA_FIELD"

    /// **Test only.** `KAKEHASHI_TEST_EXTRA_FIELD=ENTITY.FIELD` adds to ENTITY a field FIELD (one
    /// line of text, at most 200 characters, optional) in this process only: it stands in for the
    /// next release's schema, so the upgrade tests (`VersionSkewTests`) can run a "newer" server
    /// and laptop beside an "older" laptop that lacks the field (Docs/data-model.md, "Fields a
    /// laptop does not know"). Never set it in production; an unusable value (unknown entity, a
    /// name that is not lowercase snake case, an existing field) is ignored.
    static let testExtraField: (entity: Entity, spec: FieldSpec)? = {
        guard let text = ProcessInfo.processInfo.environment[testExtraFieldVariable] else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let entity = Entity(rawValue: String(parts[0])), let first = parts[1].first,
            first.isASCII, first.isLowercase, parts[1].count <= 40,
            parts[1].allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        else { return nil }
        let name = String(parts[1])
        return (entity, FieldSpec(name, label: "試験項目（\(name)）", .text(maxLength: 200, multiline: false)))
    }()
}

extension EntitySchema {
    /// This schema plus `Schema.testExtraField` when it names this entity and a new field.
    fileprivate func addingTestExtraField() -> EntitySchema {
        guard let extra = Schema.testExtraField, extra.entity == entity, !fieldNames.contains(extra.spec.name) else {
            return self
        }
        return EntitySchema(
            entity, label: label, idFormat: idFormat, adminOnly: adminOnly, fields: fields + [extra.spec], rules: rules)
    }
}

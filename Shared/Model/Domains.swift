/// The closed value sets of Docs/design.md §4, with the Japanese labels users see.
public enum Domains {
    public static let advisorRole = EnumDomain(
        "role",
        [
            "business-producer": "事業プロデューサー",
            "matching-planner": "マッチングプランナー",
            "ip-advisor": "産学連携知的財産アドバイザー",
            "ip-producer": "知的財産プロデューサー",
            "coordinator": "産学官連携コーディネーター",
            "admin": "内閣府オペレーター",
        ]
    )

    public static let ministry = EnumDomain(
        "ministry",
        [
            "meti": "経済産業省",
            "mext": "文部科学省",
            "cao": "内閣府",
            "other": "その他",
        ]
    )

    public static let organizationKind = EnumDomain(
        "kind",
        [
            "sme": "中小企業",
            "midsize": "中堅企業",
            "large-company": "大企業",
            "university": "大学",
            "kosen": "高等専門学校",
            "tlo": "TLO",
            "research-institute": "研究機関",
            "public-lab": "公設試験研究機関",
            "financial-institution": "金融機関",
            "municipality": "自治体",
            "support-center": "支援機関",
            "other": "その他",
        ]
    )

    public static let smeType = EnumDomain(
        "sme_type",
        [
            "ip-challenging": "知財活用挑戦型",
            "ip-developing": "知財活用途上型",
        ]
    )

    public static let caseKind = EnumDomain(
        "kind",
        [
            "ip-business-matching": "知財ビジネスマッチング",
            "industry-academia": "産学連携",
            "ip-strategy": "知財戦略",
            "venture": "ベンチャー支援",
            "consultation": "相談",
            "other": "その他",
        ]
    )

    /// Made from `CaseStage`, which holds the values and labels.
    public static let caseStage = EnumDomain("stage", CaseStage.self)

    /// Confidentiality levels after the universities' secret-information rules (Docs/design.md §6),
    /// made from `ConfidentialityLevel`, which holds the values and labels.
    public static let level = EnumDomain("level", ConfidentialityLevel.self)

    public static let eventKind = EnumDomain(
        "kind",
        [
            "visit": "訪問",
            "consultation": "相談",
            "meeting": "打合せ",
            "matching": "マッチング",
            "prototype": "試作",
            "contract": "契約",
            "license": "ライセンス",
            "subsidy": "補助金",
            "publicity": "広報",
            "referral": "紹介・引継ぎ",
            "lesson": "教訓",
            "note": "メモ",
        ]
    )

    public static let seedKind = EnumDomain(
        "kind",
        [
            "patent": "特許",
            "open-patent": "開放特許",
            "research-result": "研究成果",
            "know-how": "ノウハウ",
        ]
    )

    /// The 47 prefectures in JIS X 0401 order.
    public static let prefecture = EnumDomain(
        "prefecture",
        [
            "hokkaido": "北海道", "aomori": "青森県", "iwate": "岩手県", "miyagi": "宮城県",
            "akita": "秋田県", "yamagata": "山形県", "fukushima": "福島県", "ibaraki": "茨城県",
            "tochigi": "栃木県", "gunma": "群馬県", "saitama": "埼玉県", "chiba": "千葉県",
            "tokyo": "東京都", "kanagawa": "神奈川県", "niigata": "新潟県", "toyama": "富山県",
            "ishikawa": "石川県", "fukui": "福井県", "yamanashi": "山梨県", "nagano": "長野県",
            "gifu": "岐阜県", "shizuoka": "静岡県", "aichi": "愛知県", "mie": "三重県",
            "shiga": "滋賀県", "kyoto": "京都府", "osaka": "大阪府", "hyogo": "兵庫県",
            "nara": "奈良県", "wakayama": "和歌山県", "tottori": "鳥取県", "shimane": "島根県",
            "okayama": "岡山県", "hiroshima": "広島県", "yamaguchi": "山口県", "tokushima": "徳島県",
            "kagawa": "香川県", "ehime": "愛媛県", "kochi": "高知県", "fukuoka": "福岡県",
            "saga": "佐賀県", "nagasaki": "長崎県", "kumamoto": "熊本県", "oita": "大分県",
            "miyazaki": "宮崎県", "kagoshima": "鹿児島県", "okinawa": "沖縄県",
        ]
    )
}

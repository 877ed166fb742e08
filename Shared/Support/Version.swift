/// The version both executables report and the wire protocol's `User-Agent` carries.
public enum KakehashiVersion {
    public static let current = "0.1.0"
}

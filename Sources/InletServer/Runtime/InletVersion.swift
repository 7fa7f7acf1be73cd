/// The version Inlet reports: the `User-Agent` of its outbound requests and `inlet --version`.
public enum InletVersion {
    public static let current = "0.1.0"
}

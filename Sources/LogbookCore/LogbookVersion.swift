/// The version `logbook --version` prints and clients send as their User-Agent.
public enum LogbookVersion {
    public static let string = "0.11.0"
}

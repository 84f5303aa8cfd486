/// A conformance check that a backend failed: which check, and what it found.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public var check: String
    public var message: String

    public init(check: String, message: String) {
        self.check = check
        self.message = message
    }

    public var description: String { "\(check): \(message)" }
}

/// A value JSON cannot represent: a NaN or an infinity.
public struct JSONWriterError: Error, Sendable, CustomStringConvertible {
    /// The number that could not be written.
    public let number: Double

    /// An error for `number`, which is not finite.
    public init(number: Double) { self.number = number }

    /// `JSON cannot hold the number nan`
    public var description: String { "JSON cannot hold the number \(number)" }
}

/// The versions of the canonical form an event's stored body was written in. The hash chain covers the
/// stored bytes, so a row verifies whatever its form; the form says how to read and re-create it.
public enum CanonicalForm {
    /// The first version: keys by UTF-8 bytes, numbers in Swift's shortest form.
    public static let first = 1
    /// RFC 8785 (JCS): keys by UTF-16 code units, numbers as ECMAScript prints them.
    public static let rfc8785 = 2
    /// What new rows are written in.
    public static let current = rfc8785
}

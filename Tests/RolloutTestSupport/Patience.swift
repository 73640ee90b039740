/// How long a test lets the product wait for an answer that a local helper (a Python receiver, a child
/// server) gives at once on an idle machine. In the full run, the test process's shared threads can all
/// be held by other suites for minutes: in CI on 2026-11-30 they were for about 117 s, every test in
/// flight stalling and then ending within 3 s of the others, and a 120 s deadline on a post that had
/// started before the stall ran out. The product's deadlines count such time, so a short one turns a
/// late answer into a failure that is not the product's. A real hang still ends, this long after.
public enum Patience {
    /// Ten minutes: the longest suites' own time limit.
    public static let localAnswer = 600.0
}

import Foundation
import RolloutTestSupport
import Testing

@testable import RolloutMCP

/// The paths a write's placement records (`GuardAssembly.canonicalPath`): one spelling per file.
@Suite("Placement: a database path is the same before and after its server creates it")
struct PlacementPathTests {
    @Test("through a symbolic link, a file that does not exist yet and the file once created have one path; so do ./ and ../ spellings")
    func canonical() throws {
        let real = TestPaths.temporaryDirectory("real").path
        let link = TestPaths.temporaryDirectory("links").path + "/work"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        let expected = GuardAssembly.canonicalPath(real) + "/sub/demo.db"
        let before = GuardAssembly.canonicalPath(link + "/sub/demo.db")
        try FileManager.default.createDirectory(atPath: real + "/sub", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: real + "/sub/demo.db", contents: Data()))
        let after = GuardAssembly.canonicalPath(link + "/sub/demo.db")
        #expect(before == expected && after == expected, "\(before) \(after) \(expected)")
        #expect(GuardAssembly.canonicalPath(link + "/./sub/../sub/demo.db") == expected)
        #expect(!expected.contains("/links/"))
    }
}

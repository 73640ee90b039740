import Foundation

/// Validates a SARIF file against the official SARIF 2.1.0 schema in shared/sarif with PyPI
/// `jsonschema` (draft 4), the way an independent consumer would.
public enum SARIFValidation {
    public static var schema: URL { TestPaths.shared.appendingPathComponent("sarif/sarif-schema-2.1.0.json") }

    /// Whether it can run here: the schema and a python3 with jsonschema.
    public static let available: Bool = {
        FileManager.default.fileExists(atPath: schema.path) && (try? Subprocess.run(["python3", "-c", "import jsonschema"]).status) == 0
    }()

    /// Exit 0 and no output when the file is valid; the first errors otherwise.
    public static func validate(_ path: String) throws -> ProcessResult {
        let program = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            errors = list(jsonschema.Draft4Validator(schema).iter_errors(json.load(open(sys.argv[2]))))
            for e in errors[:5]: print("/".join(map(str, e.path)), e.message[:300])
            sys.exit(1 if errors else 0)
            """
        return try Subprocess.run(["python3", "-c", program, schema.path, path])
    }
}

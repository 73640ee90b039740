import Foundation
import RolloutCore

/// What the guard does with a read tool's call.
public enum ReadAnswer: Sendable {
    /// The upstream's answer, to pass to the agent as it came.
    case answer(JSONValue)
    /// Refused, and recorded.
    case refused(Decision)
    /// The upstream failed; recorded (`backend_error`), since a read may still have acted (a hand-off to a
    /// person) and a timeout or a crash restarts the upstream.
    case failed(UpstreamFailure)
}

extension Guard {
    /// A read the policy describes (`reads:`): its scoping is checked before it is forwarded, and its
    /// rules over the answer after; a refused or failed read is recorded, an answered one is not (it
    /// changed nothing). A tool that is not a read of the policy is refused as undescribed.
    public func read(_ call: ToolCall, principal: Principal) async throws -> ReadAnswer {
        guard let read = policy.read(forWireName: call.tool) else {
            return .refused(try refuseUnpoliced(call, principal: principal, code: .toolUndescribed,
                message: "'\(call.tool)' is not a read of the policy; only the reads it names may be called"))
        }
        if let allowed = read.arguments {
            // Arguments that are not an object (a list, a string) have no names to check: refused, not forwarded.
            guard call.arguments.objectValue != nil || call.arguments.isNull else {
                return .refused(try refuseUnpoliced(call, principal: principal, code: .argumentUnbound,
                    message: "\(call.tool) takes its arguments as an object of \(allowed.isEmpty ? "no members" : allowed.joined(separator: ", ")); its arguments are \(call.arguments.typeName == "array" ? "a list" : "\(call.arguments.typeNameWithArticle)")"))
            }
            // By bytes: Swift's `contains` calls a name spelled another way (`\u{212A}ey`, `Key`) the declared one,
            // and the upstream would receive the other spelling.
            let extra = (call.arguments.objectValue ?? [:]).keys.filter { name in !allowed.contains { $0.hasSameBytes(as: name) } }.sorted()
            if !extra.isEmpty {
                return .refused(try refuseUnpoliced(call, principal: principal, code: .argumentUnbound,
                    message: "\(call.tool) does not take \(extra.joined(separator: ", ")); the policy lists only \(allowed.joined(separator: ", "))"))
            }
        }
        if let field = read.tenantField, field.resolve(in: call.arguments)?.isIdentical(to: .string(principal.tenant)) != true {
            let got = field.resolve(in: call.arguments)?.canonicalText ?? "nothing"
            return .refused(try refuseUnpoliced(call, principal: principal, code: .crossTenant,
                message: "\(call.tool): \(field) is \(got); reads are scoped to tenant \(principal.tenant)"))
        }
        if let field = read.principalField {
            let got = field.resolve(in: call.arguments)
            guard let subject = principal.subject, got?.isIdentical(to: .string(subject)) == true else {
                let who = principal.subject.map { "the agent acts for \($0)" } ?? "the host gave no subject"
                return .refused(try refuseUnpoliced(call, principal: principal, code: .principalMismatch,
                    message: "\(call.tool): \(field) is \(got?.canonicalText ?? "nothing"), and \(who); it may read only that user's data"))
            }
        }
        guard let upstream else {
            return .refused(try refuseUnpoliced(call, principal: principal, code: .toolUnknown, message: "this guard has no upstream to read from"))
        }
        // The rules judge every answer passed on: one the refusal detector reads as a refusal (a "found":
        // false, "awaiting approval" in a row's text) may hold the rows the rules withhold all the same.
        func judged(_ result: JSONValue) throws -> ReadAnswer {
            guard !read.rules.isEmpty else { return .answer(result) }
            // Every way the answer shows itself is judged (structured content and text may differ, and the
            // agent may read either); an answer the rules cannot read is withheld, not judged as null.
            let judged: [JSONValue]
            switch AnswerDocuments(result).judged {
            case .success(let documents): judged = documents
            case .failure(let unreadable):
                return .refused(try refuseUnpoliced(call, principal: principal, code: .ruleRefused,
                    message: "\(call.tool): the read's rules cannot judge its answer (\(unreadable.why)); the answer was withheld"))
            }
            let now = JSONValue.number(clock.now().timeIntervalSince1970.rounded(.down))
            for after in judged {
                let data: JSONValue = [
                    "tool": .string(call.tool), "tenant": .string(principal.tenant), "actor": .string(principal.actor),
                    "subject": principal.subject.map(JSONValue.string) ?? .null, "args": call.arguments, "before": .null,
                    "after": after, "rows": 0, "lookup": [:], "now": now,
                ]
                for rule in read.rules where rule.when.isTruthy(data) {
                    return .refused(try refuseUnpoliced(call, principal: principal, code: .ruleRefused,
                        message: "\(call.tool): \(rule.message) (rule \(rule.name)); the answer was withheld"))
                }
            }
            return .answer(result)
        }
        switch await upstream.call(call) {
        case .accepted(let result), .refused(_, _, let result):
            return try judged(result)
        case .failed(let failure):
            let restart: String = switch failure {
            case .timedOut, .crashed, .garbled: "; the upstream was stopped, and starts again for the next call"
            default: ""
            }
            _ = try refuseUnpoliced(call, principal: principal, code: .backendError,
                                    message: "\(call.tool): the read failed: \(redactor.scrubbing("\(failure)", secretsOf: call.arguments))\(restart); nothing was passed on")
            return .failed(failure)
        }
    }
}

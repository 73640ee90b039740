import ArgumentParser
import Foundation
import RolloutCore

/// Shell completion from the rollout folder: `--tenant` offers the tenants of tenants.yaml, `--tool`
/// the write tools of the policy. The folder is the command line's `--dir` (or `rollout`); a folder
/// that does not read offers nothing rather than an error.
enum FolderCompletion {
    /// The folder the words being completed name.
    static func folder(_ words: [String]) -> RolloutFolder {
        var directory = "rollout"
        var policy: String?
        for (i, word) in words.enumerated() {
            if word == "--dir", i + 1 < words.count { directory = words[i + 1] }
            if word.hasPrefix("--dir=") { directory = String(word.dropFirst(6)) }
            if word == "--policy", i + 1 < words.count { policy = words[i + 1] }
        }
        return RolloutFolder(directory: directory, policyPath: policy)
    }

    static func tenantNames(_ words: [String]) -> [String] {
        let folder = folder(words)
        return ((try? folder.loadTenants(policy: try? folder.loadPolicy()))?.tenants.map(\.id) ?? []).sorted()
    }

    static func toolNames(_ words: [String]) -> [String] {
        ((try? folder(words).loadPolicy())?.tools.map(\.name) ?? []).sorted()
    }
}

extension CompletionKind {
    /// The tenants of the folder's tenants.yaml.
    static var rolloutTenants: CompletionKind {
        .custom { words, _, prefix in FolderCompletion.tenantNames(words).filter { $0.hasPrefix(prefix) } }
    }

    /// The write tools of the folder's policy.
    static var rolloutTools: CompletionKind {
        .custom { words, _, prefix in FolderCompletion.toolNames(words).filter { $0.hasPrefix(prefix) } }
    }
}

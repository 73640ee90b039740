import ArgumentParser
import Foundation
import RolloutCore
import RolloutFuzz
import RolloutMCP
import RolloutGuard
import RolloutPostgres
import RolloutStore

/// The `rollout` command line: parses arguments, calls the libraries, prints. No logic lives here.
@main
struct Rollout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Test a write policy for LLM agents and roll write tools out tenant by tenant.",
        discussion: """
            Exit status: 0 all good; 1 the check found a problem (a gap, an anomaly, a failed gate); \
            2 bad input or usage; 3 internal error.

            Start with `rollout init`, then `rollout lint` and `rollout fuzz`; `rollout status` shows where each tenant is.
            """,
        version: RolloutVersion.current,
        subcommands: [
            InitCommand.self,
            LintCommand.self,
            FuzzCommand.self,
            ScoreCommand.self,
            ReportCommand.self,
            GateCommand.self,
            PromoteCommand.self,
            DemoteCommand.self,
            PauseCommand.self,
            ResumeCommand.self,
            StatusCommand.self,
            FlagsCommand.self,
            CallCommand.self,
            GuardCommand.self,
            ApproveCommand.self,
            DenyCommand.self,
            ApprovalsCommand.self,
            AuditCommand.self,
            ServeCommand.self,
        ]
    )

    static func main() async {
        // First: a server of the same user must not read this process's secrets (ROLLOUT_CHAIN_KEY...).
        ProcessSecrecy.apply()
        // A peer that closes its end of a pipe (an agent, an upstream) is an error to handle, never a kill.
        BrokenPipes.ignore()
        Signals.exitOnTermination()
        PostgresEngine.register()
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(with: error)
        }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ValidationError {
            // Bad input found while running: the message, and where the command's help is (the usage of the
            // whole tool would be beside the point).
            Output.error("Error: \(error.message)")
            Output.error("  See '\(Self.commandPath(of: type(of: command))) --help' for more information.")
            Foundation.exit(ExitStatus.badInput)
        } catch {
            exit(with: error)
        }
    }

    /// `rollout audit anchor` for the anchor command: the path of subcommand names down to `type`.
    static func commandPath(of type: ParsableCommand.Type) -> String {
        func find(_ node: ParsableCommand.Type, _ path: [String]) -> [String]? {
            if node == type { return path }
            for sub in node.configuration.subcommands {
                if let found = find(sub, path + [sub.configuration.commandName ?? "\(sub)"]) { return found }
            }
            return nil
        }
        return (find(Rollout.self, ["rollout"]) ?? ["rollout"]).joined(separator: " ")
    }

    /// Prints the error and exits with rollout's status codes (ArgumentParser would use 64 for usage).
    static func exit(with error: Error) -> Never {
        switch error {
        case let code as ExitCode:
            Foundation.exit(code.rawValue)
        case let failure as FailureExit:
            Foundation.exit(failure.status)
        case let error as UnreadableInputError:
            Output.error(error.description)
            Foundation.exit(ExitStatus.badInput)
        case let error as DiagnosticsError:
            Output.error(error.description)
            Foundation.exit(ExitStatus.badInput)
        case let error as FileExistsError:
            Output.error("error: \(error)")
            Foundation.exit(ExitStatus.badInput)
        case let error as StoreError:
            Output.error("error: \(error)")
            switch error {
            case .badRecord, .badFile, .notFound: Foundation.exit(ExitStatus.badInput)
            case .busy, .incompatible, .io, .constraint, .server: Foundation.exit(ExitStatus.internalError)
            case .chainKey, .badLocation, .badSetting, .exposed, .exposedFolder, .foreignOwner: Foundation.exit(ExitStatus.badInput)
            // An edited log is a problem found, as `audit verify` reports it.
            case .unreadableEvent, .schemaEdited: Foundation.exit(ExitStatus.problemFound)
            }
        case let error as MCPFailure:
            Output.error("error: \(error)")
            Foundation.exit(ExitStatus.internalError)
        case let error as TargetFailure:
            Output.error("error: \(error)")
            Foundation.exit(ExitStatus.internalError)
        case let error as ReplayFile.ReadError:
            Output.error("error: \(error)")
            Foundation.exit(ExitStatus.badInput)
        case let error as GuardError:
            Output.error("error: \(error)")
            switch error {
            case .noSuchApproval, .noSuchEvent: Foundation.exit(ExitStatus.badInput)
            case .halted, .outcomeNotRecorded: Foundation.exit(ExitStatus.internalError)
            }
        case let error as GuardServer.AgentStoppedReading:
            Output.error("error: \(error)")
            Foundation.exit(ExitStatus.problemFound)
        case let error as GuardAssemblyError:
            Output.error("error: \(error)")
            Foundation.exit(ExitStatus.badInput)
        default:
            let code = Self.exitCode(for: error)
            if code == .success {
                // --help and --version.
                print(Self.fullMessage(for: error))
                Foundation.exit(0)
            }
            if code == .validationFailure || error is ValidationError {
                Output.error(Self.fullMessage(for: error))
                Foundation.exit(ExitStatus.badInput)
            }
            Output.error("internal error: \(error)")
            Foundation.exit(ExitStatus.internalError)
        }
    }
}

using System.CommandLine;
using Dtrain.Contracts;
using Dtrain.Distributed;
using Dtrain.Launcher;
using Dtrain.Launcher.Bench;
using Dtrain.Launcher.Commands;

// `dtrain run [options] -- PROGRAM [ARGS...]`: what follows -- is the user's program, never dtrain's to parse.
int dashes = Array.IndexOf(args, "--");
string[] program = dashes < 0 ? [] : args[(dashes + 1)..];
var root = new RootCommand("dtrain: distributed training for .NET (Orleans control plane, TorchSharp workers, gRPC collectives).")
{
    RunCommand.Create(program),
    CoordinatorCommand.Create(),
    BenchCommand.Create(),
    WorkerCommand.Create(),
    StatusCommand.Create(),
    TokenCommand.Create(),
    GraphCommand.Create(),
    K8sCommand.Create(),
    ReportCommand.Create(),
};

ParseResult parse;
try
{
    parse = root.Parse(dashes < 0 ? args : args[..dashes]);
}
catch (UsageException e)
{
    // A default read from a malformed environment variable (DTRAIN_METRICS_PORT=abc) fails while parsing.
    Console.Error.WriteLine($"dtrain: error: {e.Message}");
    return ExitCodes.Usage;
}
if (parse.Errors.Count > 0)
{
    Console.Error.WriteLine($"dtrain: error: {string.Join("; ", parse.Errors.Select(e => e.Message))} (see 'dtrain --help')");
    return ExitCodes.Usage;
}
if (dashes >= 0 && (parse.CommandResult.Command.Name != "run" || program.Length == 0))
{
    Console.Error.WriteLine("dtrain: error: only `dtrain run [options] -- PROGRAM [ARGS...]` takes a program after --, and it needs one");
    return ExitCodes.Usage;
}
using var interruption = new Interruption();
try
{
    // Signals are handled by Interruption, not System.CommandLine, whose handler gives up on a command that
    // takes more than two seconds to stop (and would leave its workers behind).
    var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
    return await parse.InvokeAsync(invocation, interruption.Token);
}
catch (RunInterruptedException e)
{
    Console.Error.WriteLine($"dtrain: interrupted: {e.Message}");
    return interruption.ExitCode ?? ExitCodes.Interrupted;
}
catch (UsageException e)
{
    Console.Error.WriteLine($"dtrain: error: {e.Message}");
    return ExitCodes.Usage;
}
catch (CoordinatorLostException e)
{
    Console.Error.WriteLine($"dtrain: error: {e.Message}");
    return ExitCodes.CoordinatorLost;
}
catch (DtrainException e)
{
    Console.Error.WriteLine($"dtrain: error: {e.Message}");
    return ExitCodes.Failed;
}
catch (OperationCanceledException) when (interruption.ExitCode is { } code)
{
    Console.Error.WriteLine("dtrain: interrupted");
    return code;
}
catch (Exception bug)
{
    // Not a user error: the whole exception, stack included, is what a bug report needs.
    Console.Error.WriteLine($"dtrain: internal error: {bug}");
    return ExitCodes.Failed;
}

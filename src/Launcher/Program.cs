using System.CommandLine;
using Dtrain.Contracts;
using Dtrain.Launcher;
using Dtrain.Launcher.Bench;
using Dtrain.Launcher.Commands;

var root = new RootCommand("dtrain: distributed training for .NET (Orleans control plane, TorchSharp workers, gRPC collectives).")
{
    RunCommand.Create(),
    CoordinatorCommand.Create(),
    BenchCommand.Create(),
    WorkerCommand.Create(),
    StatusCommand.Create(),
    TokenCommand.Create(),
    GraphCommand.Create(),
    K8sCommand.Create(),
};

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    Console.Error.WriteLine($"dtrain: error: {string.Join("; ", parse.Errors.Select(e => e.Message))} (see 'dtrain --help')");
    return ExitCodes.Usage;
}
try
{
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (UsageException e)
{
    Console.Error.WriteLine($"dtrain: error: {e.Message}");
    return ExitCodes.Usage;
}
catch (DtrainException e)
{
    Console.Error.WriteLine($"dtrain: error: {e.Message}");
    return ExitCodes.Failed;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("dtrain: cancelled");
    return ExitCodes.Cancelled;
}
catch (Exception bug)
{
    // Not a user error: the whole exception, stack included, is what a bug report needs.
    Console.Error.WriteLine($"dtrain: internal error: {bug}");
    return ExitCodes.Failed;
}

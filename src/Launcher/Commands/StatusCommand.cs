using System.CommandLine;
using System.Globalization;
using Dtrain.Contracts.Coordinator;
using Dtrain.Launcher.Monitoring;
using Dtrain.Launcher.Options;

namespace Dtrain.Launcher.Commands;

/// <summary>`dtrain status`: asks a running coordinator for its job's state, epoch, workers and last checkpoint.</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var coordinator = new Option<string>("--coordinator")
        {
            Description = "the coordinator's gRPC address",
            DefaultValueFactory = _ => "http://127.0.0.1:29500",
        }.AcceptUrl();
        var command = new Command("status", $"Show a running job: state, epoch, workers, last checkpoint. The job token is read from ${JobEnvironment.JobToken}.")
        {
            coordinator,
        };
        command.SetAction(async (parse, ct) =>
        {
            using var client = StatusClient.Connect(parse.GetValue(coordinator)!, JobEnvironment.RequireJobToken());
            Print(Console.Out, await client.GetAsync(ct));
            return 0;
        });
        return command;
    }

    private static void Print(TextWriter output, StatusReply status)
    {
        var culture = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(culture, $"job {status.JobId}: {status.State}, epoch {status.Epoch}, {status.Joined}/{status.WorldSize} workers joined, {status.Restarts} restarts, {status.Steps} steps"));
        if (status.Failure != "") output.WriteLine($"failed: {status.Failure}");
        output.WriteLine(status.LastCheckpointStep > 0 ? $"last checkpoint: {status.LastCheckpoint} (step {status.LastCheckpointStep})" : "last checkpoint: none");
        foreach (var placement in status.ShardMap)
        {
            output.WriteLine($"shard map: {placement.Kind}, {placement.Units} units on {placement.Ranks} ranks, {placement.CostUnit} per rank " +
                string.Join(" / ", placement.CostPerRank.Select(cost => cost.ToString("N0", culture))));
        }
        output.WriteLine($"{"rank",4} {"step",8} {"loss",10} {"heard",8}");
        foreach (var worker in status.Workers)
        {
            output.WriteLine(string.Create(culture, $"{worker.Rank,4} {worker.Step,8} {worker.Loss,10:0.0000} {worker.SecondsSinceHeard,6:0.0} s"));
        }
    }
}

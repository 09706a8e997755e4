using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Dtrain.Tests.Collectives;

/// <summary>
/// The collectives over MPICH, in real processes: the MPI harness (tests/MpiHarness) run under mpiexec, one process
/// per rank, each checking its own results against the oracle and printing a line per check.
/// </summary>
public class MpiCollectivesTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    private static readonly string[] ChecksOfEveryRank =
    [
        "a NullReferenceException after MPI_Init is caught",
        "all_reduce ring bfloat16 Average",
        "all_reduce recursivedoubling int64 Min",
        "split ring by parity, all_reduce in each sub-group",
        "all_gather variable sizes int64",
        "reduce_scatter float32 Max",
        "broadcast float64 from every root",
        "reduce float32 Sum to every root",
        "barrier",
        "MPI_Allreduce float32 Sum against the ring",
    ];

    private static readonly string[] ChecksWithPeers =
    [
        "send/recv to the right neighbour",
        "mismatch: rank 0 float32, rank 1 float64",
        "mismatch of rendezvous-sized buffers fails on both ranks",
        "timeout and cancellation",
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Every_rank_passes_every_check(int ranks)
    {
        var (exitCode, output) = await RunHarnessAsync(ranks);

        Assert.True(exitCode == 0, $"mpiexec -n {ranks} exited with {exitCode}:\n{output}");
        for (int rank = 0; rank < ranks; rank++)
        {
            string prefix = $"rank {rank}/{ranks} ";
            var plan = Regex.Match(output, $"^{prefix}plan (\\d+) checks$", RegexOptions.Multiline);
            Assert.True(plan.Success, $"rank {rank} printed no plan:\n{output}");
            Assert.True(output.Contains($"{prefix}done: {plan.Groups[1].Value} passed, 0 failed\n"),
                $"rank {rank} did not pass all {plan.Groups[1].Value} checks it planned:\n{output}");
            foreach (string check in ranks > 1 ? [.. ChecksOfEveryRank, .. ChecksWithPeers] : ChecksOfEveryRank)
            {
                Assert.True(output.Contains($"{prefix}ok   {check}\n"), $"rank {rank} did not pass '{check}':\n{output}");
            }
        }
    }

    /// <summary>mpiexec.mpich -n <paramref name="ranks"/> dotnet Dtrain.MpiHarness.dll; stdout then stderr.</summary>
    private static async Task<(int ExitCode, string Output)> RunHarnessAsync(int ranks)
    {
        string harness = typeof(MpiCollectivesTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "MpiHarnessPath").Value!;
        var start = new ProcessStartInfo("mpiexec.mpich")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "-n", ranks.ToString(), "dotnet", harness }) start.ArgumentList.Add(argument);
        using var mpiexec = Process.Start(start)!;
        var stdout = mpiexec.StandardOutput.ReadToEndAsync();
        var stderr = mpiexec.StandardError.ReadToEndAsync();
        try
        {
            await mpiexec.WaitForExitAsync().WaitAsync(Limit);
        }
        catch (TimeoutException)
        {
            mpiexec.Kill(entireProcessTree: true);
            throw new TimeoutException($"mpiexec -n {ranks} ran longer than {Limit.TotalSeconds} s:\n{await stdout}\n{await stderr}");
        }
        return (mpiexec.ExitCode, $"{await stdout}\n{await stderr}");
    }
}

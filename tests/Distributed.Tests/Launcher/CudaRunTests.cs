using System.Globalization;
using System.Text.RegularExpressions;

namespace Dtrain.Tests.Launcher;

/// <summary>`dtrain run --device cuda` end to end: worker processes that share one GPU, against the same job on the CPU.</summary>
public class CudaRunTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private static readonly Regex Summary = new(@"done: \d+ steps on \d workers, final loss \S+, held-out accuracy (\S+) %, wall time \S+ s, parameters identical on all ranks");

    /// <summary>The job on <paramref name="device"/>: its held-out accuracy, after checking that every rank ran there.</summary>
    private static async Task<double> AccuracyOn(string device, params string[] job)
    {
        var run = await DtrainProcess.RunAsync(Limit, ["run", .. job, "--workers", "2", "--device", device, "--port", TestPorts.FreePair().ToString()]);
        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}; stderr: {run.Stderr}");
        Assert.Contains($"rank 0/2 of epoch 1 on {device}", run.Stdout);
        Assert.Contains($"rank 1/2 of epoch 1 on {device}", run.Stdout);
        var summary = Summary.Match(run.Stdout);
        Assert.True(summary.Success, run.Stdout);
        return double.Parse(summary.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>CUDA kernels round differently from the CPU's, so the runs differ in their last bits, not in what they learn.</summary>
    [CudaFact]
    public async Task The_mlp_trains_on_cuda_to_the_cpu_runs_accuracy()
    {
        string[] job = ["--steps", "100"];
        double cuda = await AccuracyOn("cuda", job), cpu = await AccuracyOn("cpu", job);
        Assert.InRange(cuda, cpu - 1, cpu + 1);
        Assert.True(cuda > 90, $"{cuda} %");
    }

    [CudaFact]
    public async Task Graphsage_trains_on_cuda_to_the_cpu_runs_accuracy()
    {
        string[] job = ["--model", "graphsage", "--steps", "40", "--batch-size", "128"];
        double cuda = await AccuracyOn("cuda", job), cpu = await AccuracyOn("cpu", job);
        Assert.InRange(cuda, cpu - 2, cpu + 2);
        Assert.True(cuda > 85, $"{cuda} %");
    }

    [WithoutCudaFact]
    public async Task Device_cuda_without_cuda_fails_the_run_with_one_line()
    {
        var (code, stdout, stderr) = await DtrainProcess.RunAsync(Limit, "run", "--device", "cuda", "--steps", "5", "--port", TestPorts.FreePair().ToString());
        Assert.Equal(1, code);
        BadInputTests.AssertOneLineError(stderr, "--device cuda: CUDA is not available");
        // Without --max-restarts the failure ends the job: nothing is replaced, so nothing says it is.
        Assert.DoesNotContain("replacement", stdout);
    }
}

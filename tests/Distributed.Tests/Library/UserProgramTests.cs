using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Tests.Graph;
using Dtrain.Tests.Launcher;
using Dtrain.Tests.Models.Data;

namespace Dtrain.Tests.Library;

/// <summary>
/// Users' own programs, built from the packed library outside the repository and started by
/// `dtrain run -- dotnet PROGRAM`, on real data from Debian packages (scripts/fetch-datasets.sh).
/// </summary>
[Collection(PackedExamplesCollection.Name)]
public class UserProgramTests(PackedExamples examples)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private static readonly Regex Accuracy = new(@"held-out accuracy (\S+) %");
    private static readonly Regex HeldOutLoss = new(@"rank 0: held-out loss (\S+) nats/byte, unigram baseline (\S+)");

    private string[] Digits(params string[] options) =>
        ["run", "--workers", "2", "--steps", "200", "--batch-size", "32", "--lr", "0.01", "--device", "cpu", "--port", TestPorts.FreePair().ToString(),
         .. options, "--", "dotnet", examples.Program("Digits"), Datasets.PathOf("digits.csv.gz")];

    private static int CommittedCheckpoints(string directory) =>
        Directory.Exists(directory) ? Directory.GetFiles(directory, CheckpointStore.ManifestName, SearchOption.AllDirectories).Length : 0;

    [DatasetFact("digits.csv.gz")]
    public async Task A_users_classifier_trains_and_a_killed_rank_resumes_from_its_checkpoint_bitwise()
    {
        var uninterrupted = await DtrainProcess.RunAsync(Limit, Digits());
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Stderr);
        double accuracy = double.Parse(Accuracy.Match(uninterrupted.Stdout).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(accuracy > 93, $"held-out accuracy {accuracy} %: {uninterrupted.Stdout}");

        using var checkpoints = new TempDirectory();
        using var job = DtrainProcess.Start(Digits(
            "--checkpoint-dir", checkpoints.Path, "--checkpoint-every", "20", "--keep-checkpoints", "100", "--max-restarts", "1", "--heartbeat-timeout", "3"));
        var waited = Stopwatch.StartNew();
        while (CommittedCheckpoints(checkpoints.Path) < 2)
        {
            Assert.True(waited.Elapsed < Limit, $"no two checkpoints within {Limit}: {job.Stdout}");
            await Task.Delay(10);
        }
        var workers = job.Children();
        Process.GetProcessById(workers[^1]).Kill();
        Assert.Equal(0, await job.WaitAsync(Limit));
        Assert.Matches(@"restarting from step \d+", job.Stdout);
        Assert.Equal(DtrainProcess.ParameterDigest(uninterrupted.Stdout), DtrainProcess.ParameterDigest(job.Stdout));
    }

    [DatasetFact("fortunes")]
    public async Task A_users_language_model_on_fortunes_ends_well_below_the_unigram_baseline()
    {
        var run = await DtrainProcess.RunAsync(Limit,
            ["run", "--workers", "2", "--steps", "250", "--batch-size", "16", "--lr", "0.003", "--device", "cpu", "--port", TestPorts.FreePair().ToString(),
             "--", "dotnet", examples.Program("CharLm"), Datasets.PathOf("fortunes")]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var found = HeldOutLoss.Match(run.Stdout);
        Assert.True(found.Success, run.Stdout);
        double loss = double.Parse(found.Groups[1].Value, CultureInfo.InvariantCulture), unigram = double.Parse(found.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.True(loss < 0.8 * unigram, $"held-out loss {loss} nats/byte against the unigram baseline's {unigram}");
    }
}

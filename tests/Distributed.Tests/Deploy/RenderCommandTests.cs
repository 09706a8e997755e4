using Dtrain.Contracts.Jobs;
using Dtrain.Tests.Graph;
using Dtrain.Tests.Launcher;
using k8s.Models;

namespace Dtrain.Tests.Deploy;

/// <summary>`dtrain k8s render` run as users run it, and the committed manifests in deploy/k8s it rendered.</summary>
public class RenderCommandTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private static readonly string ExampleJob = RepositoryFiles.PathOf("deploy/k8s/example-job.yaml");

    [Theory]
    [InlineData("example", "--job-id", "example")]
    [InlineData("example-gpu", "--job-id", "example-gpu", "--gpus-per-worker", "1", "--coordinators", "2")]
    public async Task The_committed_manifests_are_what_the_render_command_writes(string example, params string[] options)
    {
        using var output = new TempDirectory();
        var (code, _, stderr) = await DtrainProcess.RunAsync(Limit, ["k8s", "render", ExampleJob, "--placeholder-secret", "--out", output.Path, .. options]);
        Assert.True(code == 0, stderr);

        string committed = RepositoryFiles.PathOf($"deploy/k8s/{example}");
        string rerender = $"deploy/k8s/{example} is out of date: dtrain k8s render deploy/k8s/example-job.yaml --placeholder-secret {string.Join(' ', options)} --out deploy/k8s/{example}";
        Assert.True(Names(committed).SequenceEqual(Names(output.Path)), rerender);
        foreach (string name in Names(committed))
        {
            Assert.True(File.ReadAllText(Path.Combine(committed, name)) == File.ReadAllText(output.File(name)), $"{name}: {rerender}");
        }
        // The committed files parse strictly into the typed models too.
        Assert.Equal(Names(committed).Count, RenderedManifests.Read(committed).Objects.Count);
    }

    private static List<string> Names(string directory) => Directory.GetFiles(directory).Select(Path.GetFileName).Order().ToList()!;

    [Fact]
    public async Task The_Secret_holds_the_operators_secret_and_the_token_derived_from_it_and_flags_override_the_job_file()
    {
        using var output = new TempDirectory();
        using var dtrain = DtrainProcess.Start(
            ["k8s", "render", ExampleJob, "--job-id", "mnist-7", "--namespace", "team-a", "--workers", "6", "--image", "registry.example/dtrain:1", "--out", output.Path],
            new Dictionary<string, string> { ["DTRAIN_JOB_SECRET"] = "operator-secret" });
        Assert.True(await dtrain.WaitAsync(Limit) == 0, dtrain.Stderr);

        var rendered = RenderedManifests.Read(output.Path);
        var secret = rendered.Single<V1Secret>("mnist-7-secret");
        Assert.Equal("operator-secret", secret.StringData["DTRAIN_JOB_SECRET"]);
        Assert.Equal(await DtrainProcess.TokenAsync("operator-secret", "mnist-7"), secret.StringData["DTRAIN_JOB_TOKEN"]);
        var workers = rendered.Single<V1Job>("mnist-7-workers");
        Assert.Equal("team-a", workers.Metadata.NamespaceProperty);
        Assert.Equal(6, workers.Spec.Completions);
        Assert.Equal("registry.example/dtrain:1", RenderedManifests.Container(workers.Spec.Template).Image);
        Assert.Equal(File.ReadAllText(ExampleJob), rendered.Single<V1ConfigMap>("mnist-7-job").Data["job.yaml"]);
    }

    [Fact]
    public async Task Without_a_secret_each_rendering_generates_a_fresh_one()
    {
        using var first = new TempDirectory();
        using var second = new TempDirectory();
        foreach (var output in new[] { first, second })
        {
            using var dtrain = DtrainProcess.Start(["k8s", "render", ExampleJob, "--out", output.Path], new Dictionary<string, string> { ["DTRAIN_JOB_SECRET"] = "" });
            Assert.True(await dtrain.WaitAsync(Limit) == 0, dtrain.Stderr);
        }

        var secrets = new[] { first, second }.Select(o => RenderedManifests.Read(o.Path).Single<V1Secret>("example-job-secret").StringData).ToList();
        Assert.NotEqual(secrets[0]["DTRAIN_JOB_SECRET"], secrets[1]["DTRAIN_JOB_SECRET"]);
        Assert.All(secrets, s => Assert.Equal(JobToken.Derive(s["DTRAIN_JOB_SECRET"], "example-job"), s["DTRAIN_JOB_TOKEN"]));
    }

    [Theory]
    [InlineData("cannot render job example-job: gpus per worker must be 0 or 1, got 2", "--gpus-per-worker", "2")]
    [InlineData("cannot render job Example: job id 'Example' must be a DNS label", "--job-id", "Example")]
    [InlineData("coordinators must be at least 1, got 0", "--coordinators", "0")]
    [InlineData("invalid job (job file example-job.yaml and flags): workers must be at least 1, got 0", "--workers", "0")]
    public async Task Deployments_that_cannot_run_are_usage_errors(string expected, params string[] options)
    {
        using var output = new TempDirectory();
        var (code, _, stderr) = await DtrainProcess.RunAsync(Limit, ["k8s", "render", ExampleJob, "--out", output.Path, .. options]);

        Assert.Equal(2, code);
        BadInputTests.AssertOneLineError(stderr, expected);
        Assert.Empty(Directory.GetFiles(output.Path));
    }
}

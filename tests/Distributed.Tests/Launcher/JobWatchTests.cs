using Dtrain.Contracts;
using Dtrain.Contracts.Coordinator;
using Dtrain.Contracts.Network;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Dtrain.Launcher.Monitoring;
using Grpc.Net.Client;

namespace Dtrain.Tests.Launcher;

/// <summary>
/// The launcher's watch of a job, through the Status rpc of a real coordinator whose two workers are played here
/// over gRPC, as `dtrain worker` would: they join (as processes 1001 and 1002), report progress and finish.
/// </summary>
public sealed class JobWatchTests : IAsyncLifetime
{
    private static readonly Func<JobView, Task> Unsupervised = _ => Task.CompletedTask;

    private readonly CoordinatorOptions options = new()
    {
        JobId = "watched",
        JobToken = JobToken.Generate(),
        Job = new JobSpec { Workers = 2, Steps = 10, Elastic = new() { MaxRestarts = 1 }, Port = TestPorts.FreePair() },
    };
    private CoordinatorHost host = null!;
    private GrpcChannel channel = null!;
    private StatusClient status = null!;

    private Contracts.Coordinator.Coordinator.CoordinatorClient Worker => new(channel);

    public async Task InitializeAsync()
    {
        host = await CoordinatorHost.StartAsync(options);
        channel = GrpcChannel.ForAddress(host.Address);
        status = StatusClient.Of(host);
    }

    public async Task DisposeAsync()
    {
        status.Dispose();
        channel.Dispose();
        await host.DisposeAsync();
    }

    private JobWatch Watch() => new(status, options.Job.Steps);

    /// <returns>The worker's id.</returns>
    private async Task<string> JoinAsync(int processId) =>
        (await Worker.JoinAsync(new JoinRequest { JobToken = options.JobToken, PeerAddress = $"http://127.0.0.1:{processId}", ProcessId = processId })).WorkerId;

    /// <returns>The two workers' ids, by rank: they join as processes 1001 and 1002 and meet at the rendezvous.</returns>
    private async Task<string[]> MembersAsync()
    {
        string[] joined = [await JoinAsync(1001), await JoinAsync(1002)];
        var byRank = new string[joined.Length];
        foreach (string id in joined)
        {
            byRank[(await Worker.RendezvousAsync(new RendezvousRequest { JobToken = options.JobToken, WorkerId = id })).Rank] = id;
        }
        return byRank;
    }

    private async Task ReportAsync(string workerId, int rank, int step, double loss, long samples) =>
        await Worker.ReportAsync(new ProgressReport { JobToken = options.JobToken, WorkerId = workerId, Epoch = 1, Rank = rank, Step = step, Loss = loss, Samples = samples });

    private async Task FinishAsync(string workerId, int rank, string digest, double samplesPerSecond = 0) =>
        await Worker.FinishAsync(new FinishReport
        {
            JobToken = options.JobToken, WorkerId = workerId, Epoch = 1, WorldSize = 2, Rank = rank,
            FinalLoss = 0.25 + rank, TestAccuracy = 0.9, ParameterDigest = digest, SamplesPerSecond = samplesPerSecond,
        });

    [Fact]
    public async Task Agreeing_ranks_complete_the_job_with_the_results_and_progress_the_status_rpc_carries()
    {
        var members = await MembersAsync();
        string first = members[0], second = members[1];
        await ReportAsync(first, 0, 4, 1.5, 128);
        await ReportAsync(second, 1, 3, 0.5, 96);
        var seen = new List<JobSnapshot>();
        var progressed = new TaskCompletionSource();
        var watching = Watch().WaitAsync(snapshot =>
        {
            seen.Add(snapshot);
            progressed.TrySetResult();
        }, Unsupervised, CancellationToken.None);
        await progressed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await FinishAsync(second, 1, "cafe", samplesPerSecond: 300);
        await FinishAsync(first, 0, "cafe", samplesPerSecond: 200);

        var outcome = await watching.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((3, 1.0), (seen[0].Step, seen[0].Loss));
        Assert.Equal([(0, 4, 128L), (1, 3, 96L)], seen[0].Ranks.Select(r => (r.Rank, r.Step, r.Samples)));
        Assert.All(seen[0].Ranks, r => Assert.InRange(DateTime.UtcNow - r.HeardAt, TimeSpan.Zero, TimeSpan.FromSeconds(30)));
        Assert.Equal([new RankResultView(0, 0.25, 0.9, "cafe", 200), new RankResultView(1, 1.25, 0.9, "cafe", 300)], outcome.Results);
        Assert.Equal(500.0, outcome.SamplesPerSecond);
    }

    [Fact]
    public async Task Ranks_that_end_with_different_parameters_fail_the_job()
    {
        var members = await MembersAsync();
        await FinishAsync(members[0], 0, "aaaa");
        await FinishAsync(members[1], 1, "bbbb");

        var error = await Assert.ThrowsAsync<DtrainException>(() => Watch().WaitAsync(_ => { }, Unsupervised, CancellationToken.None));
        Assert.StartsWith("the ranks ended with different parameters (2 distinct digests)", error.Message);
    }

    [Fact]
    public async Task A_failure_outside_the_coordinator_ends_the_wait_with_its_message()
    {
        await ReportAsync((await MembersAsync())[0], 0, 3, 1.5, 96);
        var seen = new List<JobSnapshot>();

        var error = await Assert.ThrowsAsync<DtrainException>(
            () => Watch().WaitAsync(seen.Add, _ => throw new DtrainException("worker 1 failed"), CancellationToken.None));

        Assert.Equal("worker 1 failed", error.Message);
        Assert.Equal(3, Assert.Single(seen).Step);
    }

    [Fact]
    public async Task A_job_the_coordinator_failed_ends_the_wait_with_its_reason()
    {
        await host.FailAsync("epoch 1 has 1 of its minimum 2 workers after 300 s");

        var error = await Assert.ThrowsAsync<DtrainException>(() => Watch().WaitAsync(_ => { }, Unsupervised, CancellationToken.None));
        Assert.Equal("epoch 1 has 1 of its minimum 2 workers after 300 s", error.Message);
    }

    [Fact]
    public async Task The_status_names_the_epochs_members_and_its_last_restart_with_the_process_that_ended_it()
    {
        await ReportAsync((await MembersAsync())[0], 0, 7, 1.5, 224);
        Assert.Equal([1001, 1002], (await status.GetJobAsync(CancellationToken.None)).MemberProcessIds);
        var before = DateTime.UtcNow;

        await host.ProcessExitedAsync(1001, "worker 0 failed (exit code 3)");

        var restarted = await status.GetJobAsync(CancellationToken.None);
        Assert.Equal((2L, 1, "restarting"), (restarted.Epoch, restarted.Restarts, restarted.State));
        Assert.Empty(restarted.MemberProcessIds);
        var restart = restarted.LastRestart!;
        Assert.Equal(new RestartView(2, "worker 0 failed (exit code 3)", 7, 0, restart.At, 1001), restart);
        Assert.InRange(restart.At, before, DateTime.UtcNow);
        Assert.Equal(7, restart.LostSteps);
    }

    [Fact]
    public async Task A_coordinator_serving_tls_on_every_address_is_watched_through_its_own_certificate()
    {
        using var certificates = new TestCertificates();
        // No CA to trust: the launcher trusts the very certificate its coordinator presents, on loopback.
        await using var secured = await CoordinatorHost.StartAsync(options with
        {
            Job = options.Job with { Port = TestPorts.FreePair() },
            ListenAddress = "0.0.0.0",
            Tls = GrpcTls.Load(certificates.CertificateFile, certificates.KeyFile, null),
        });
        using var client = StatusClient.Of(secured);

        Assert.Equal("pending", (await client.GetJobAsync(CancellationToken.None)).State);
    }
}

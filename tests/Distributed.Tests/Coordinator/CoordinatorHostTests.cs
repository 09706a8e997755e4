using Dtrain.Contracts.Coordinator;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Grpc.Net.Client;

namespace Dtrain.Tests.Coordinator;

/// <summary>The coordinator as workers see it: a real silo behind a real gRPC socket, and its /metrics.</summary>
public class CoordinatorHostTests
{
    private static CoordinatorOptions Options(int workers) => new()
    {
        JobId = Guid.NewGuid().ToString("N"),
        JobToken = JobToken.Generate(),
        Job = new JobSpec { Workers = workers, Port = TestPorts.FreePair(), Steps = 7 },
    };

    [Fact]
    public async Task Workers_join_over_grpc_and_get_ranks_settings_and_peers()
    {
        var options = Options(2);
        await using var host = await CoordinatorHost.StartAsync(options);
        using var channel = GrpcChannel.ForAddress(host.Address);
        var client = new Contracts.Coordinator.Coordinator.CoordinatorClient(channel);

        var a = await client.JoinAsync(new JoinRequest { JobToken = options.JobToken, PeerAddress = "http://127.0.0.1:1001" });
        var b = await client.JoinAsync(new JoinRequest { JobToken = options.JobToken, PeerAddress = "http://127.0.0.1:1002" });
        var rendezvous = await Task.WhenAll(
            client.RendezvousAsync(new RendezvousRequest { JobToken = options.JobToken, WorkerId = b.WorkerId }).ResponseAsync,
            client.RendezvousAsync(new RendezvousRequest { JobToken = options.JobToken, WorkerId = a.WorkerId }).ResponseAsync);

        Assert.Equal(7, JobJson.Deserialize(a.Job).Steps);
        Assert.Equal([1, 0], rendezvous.Select(r => r.Rank));
        Assert.All(rendezvous, r => Assert.Equal(["http://127.0.0.1:1001", "http://127.0.0.1:1002"], r.PeerAddresses));
    }

    [Fact]
    public async Task A_job_is_pending_until_a_worker_joins_then_forming_until_all_did()
    {
        var options = Options(2);
        await using var host = await CoordinatorHost.StartAsync(options);
        using var channel = GrpcChannel.ForAddress(host.Address);
        var client = new Contracts.Coordinator.Coordinator.CoordinatorClient(channel);
        async Task<string> StateAsync() => (await client.StatusAsync(new StatusRequest { JobToken = options.JobToken })).State;

        Assert.Equal("pending", await StateAsync());
        await client.JoinAsync(new JoinRequest { JobToken = options.JobToken, PeerAddress = "http://127.0.0.1:1001" });
        Assert.Equal("forming", await StateAsync());
    }

    [Fact]
    public async Task A_worker_that_fails_fails_the_job_in_its_own_words_and_is_not_then_lost()
    {
        var options = Options(2) with { Job = new JobSpec { Workers = 2, Port = TestPorts.FreePair(), Elastic = new() { HeartbeatTimeoutSeconds = 0.5 } } };
        await using var host = await CoordinatorHost.StartAsync(options);
        await using var link = new CoordinatorLink(new WorkerOptions { Coordinator = host.Address, JobToken = options.JobToken });
        var joined = await link.JoinAsync("http://127.0.0.1:1001", null, default);

        await link.FailAsync(new Epoch(1, joined.WorkerId, 0, 2), "rank 0: partition-0.dtgp is corrupted", default);
        await Task.Delay(TimeSpan.FromSeconds(1.5));   // three heartbeat timeouts

        using var channel = GrpcChannel.ForAddress(host.Address);
        var status = await new Contracts.Coordinator.Coordinator.CoordinatorClient(channel).StatusAsync(new StatusRequest { JobToken = options.JobToken });
        Assert.Equal(("failed", "rank 0: partition-0.dtgp is corrupted"), (status.State, status.Failure));
    }

    /// <summary>A worker whose epoch ends mid-call cancels the call; that must read as the epoch's end, not as a fault.</summary>
    [Fact]
    public async Task A_call_the_worker_cancels_is_a_cancellation()
    {
        var options = Options(1) with { Job = new JobSpec { Workers = 1, Port = TestPorts.FreePair(), Checkpoints = new() { Dir = Path.GetTempPath(), Every = 5 } } };
        await using var host = await CoordinatorHost.StartAsync(options);
        await using var link = new CoordinatorLink(new WorkerOptions { Coordinator = host.Address, JobToken = options.JobToken });
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => link.ReportCheckpointAsync(new Epoch(1, "w", 0, 1), 0, 5, "rank-0.shard", "00", cancelled.Token));
    }

    [Fact]
    public async Task Serves_prometheus_metrics_with_world_size_and_build_info()
    {
        await using var host = await CoordinatorHost.StartAsync(Options(3));
        using var http = new HttpClient();
        string metrics = await http.GetStringAsync(host.MetricsAddress);

        Assert.Contains("\ndtrain_world_size 3\n", metrics);
        Assert.Matches("dtrain_build_info\\{version=\"[^\"]+\",process=\"coordinator\"\\} 1", metrics);
        Assert.Contains("dtrain_registered_workers", metrics);
    }

    [Fact]
    public async Task Serves_the_orleans_dashboard_only_when_asked()
    {
        using var http = new HttpClient();
        await using (var plain = await CoordinatorHost.StartAsync(Options(2)))
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync(plain.DashboardAddress)).StatusCode);
        }
        await using var host = await CoordinatorHost.StartAsync(Options(2) with { Dashboard = true });
        using var page = await http.GetAsync(host.DashboardAddress);

        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
    }
}

using Dtrain.Contracts.Coordinator;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Dtrain.Tests.Graph;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dtrain.Tests.Coordinator;

/// <summary>
/// What the coordinator refuses, over a real gRPC socket to a real silo: a wrong token, another job's token or id,
/// a rank already taken, malformed requests. Each refusal names what was wrong; the unauthorised ones are counted.
/// </summary>
public class AdmissionTests : IAsyncLifetime
{
    private const string Secret = "admission-test-secret";
    private readonly TempDirectory checkpoints = new();
    private CoordinatorHost host = null!;
    private GrpcChannel channel = null!;

    private Contracts.Coordinator.Coordinator.CoordinatorClient Client => new(channel);

    private string Token => host.Options.JobToken;

    public async Task InitializeAsync()
    {
        string jobId = $"job-{Guid.NewGuid():N}";
        host = await CoordinatorHost.StartAsync(new CoordinatorOptions
        {
            JobId = jobId,
            JobToken = JobToken.Derive(Secret, jobId),
            Job = new JobSpec { Workers = 2, Port = TestPorts.FreePair(), Checkpoints = new() { Dir = checkpoints.Path, Every = 10 } },
        });
        channel = GrpcChannel.ForAddress(host.Address);
    }

    public async Task DisposeAsync()
    {
        channel.Dispose();
        await host.DisposeAsync();
        checkpoints.Dispose();
    }

    private JoinRequest Join(string? token = null, string peer = "http://127.0.0.1:1001") => new() { JobToken = token ?? Token, PeerAddress = peer };

    private async Task<RpcException> RefusedAsync(JoinRequest request) =>
        await Assert.ThrowsAsync<RpcException>(() => Client.JoinAsync(request).ResponseAsync);

    [Fact]
    public async Task A_wrong_token_or_another_jobs_token_is_refused_and_counted()
    {
        string series = Scrape.Rejected("coordinator", "token");
        double before = await Scrape.ValueAsync(host.MetricsAddress, series);

        var guess = await RefusedAsync(Join(token: "guess"));
        var otherJob = await RefusedAsync(Join(token: JobToken.Derive(Secret, "another-job")));
        var status = await Assert.ThrowsAsync<RpcException>(() => Client.StatusAsync(new StatusRequest { JobToken = "" }).ResponseAsync);

        Assert.All(new[] { guess, otherJob, status }, refused =>
        {
            Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
            Assert.Equal("the job token is wrong", refused.Status.Detail);
        });
        Assert.Equal(before + 3, await Scrape.ValueAsync(host.MetricsAddress, series));
        Assert.Equal(0, (await Client.StatusAsync(new StatusRequest { JobToken = Token })).Joined);
    }

    [Fact]
    public async Task A_worker_of_another_job_is_told_which_job_this_is_and_counted()
    {
        string series = Scrape.Rejected("coordinator", "job");
        double before = await Scrape.ValueAsync(host.MetricsAddress, series);

        var request = Join();
        request.JobId = "someone-elses-job";
        var refused = await RefusedAsync(request);

        Assert.Equal(StatusCode.NotFound, refused.StatusCode);
        Assert.Equal($"unknown job 'someone-elses-job' (this coordinator runs job '{host.Options.JobId}')", refused.Status.Detail);
        Assert.Equal(before + 1, await Scrape.ValueAsync(host.MetricsAddress, series));
        request.JobId = host.Options.JobId;
        Assert.NotEmpty((await Client.JoinAsync(request)).WorkerId);
    }

    [Fact]
    public async Task A_rank_claimed_twice_is_refused_the_second_time()
    {
        var first = Join(peer: "http://127.0.0.1:1001");
        first.RequestedRank = 1;
        var second = Join(peer: "http://127.0.0.1:1002");
        second.RequestedRank = 1;

        await Client.JoinAsync(first);
        var refused = await RefusedAsync(second);

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Equal("rank 1 is already taken", refused.Status.Detail);
    }

    [Theory]
    [InlineData("")]
    [InlineData("127.0.0.1:1001")]
    [InlineData("ftp://127.0.0.1:1001")]
    [InlineData("not a url")]
    public async Task A_join_without_a_usable_peer_address_is_refused(string peer)
    {
        var refused = await RefusedAsync(Join(peer: peer));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal($"peer_address must be an http:// or https:// URL, got '{peer}'", refused.Status.Detail);
        Assert.Equal(0, (await Client.StatusAsync(new StatusRequest { JobToken = Token })).Joined);
    }

    [Theory]
    [InlineData("")]
    [InlineData("../x")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/shard-0.bin")]
    [InlineData("..")]
    public async Task A_checkpoint_shard_that_is_not_a_plain_file_name_is_refused(string file)
    {
        string worker = (await Client.JoinAsync(Join())).WorkerId;
        var report = new CheckpointReport { JobToken = Token, WorkerId = worker, Epoch = 1, WorldSize = 1, Rank = 0, Step = 10, File = file, Checksum = "0123456789abcdef" };

        var refused = await Assert.ThrowsAsync<RpcException>(() => Client.ReportCheckpointAsync(report).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal($"the shard's file must be a plain file name, got '{file}'", refused.Status.Detail);
    }
}

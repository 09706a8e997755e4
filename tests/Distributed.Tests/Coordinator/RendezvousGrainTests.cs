using Dtrain.Coordinator.Grains;

namespace Dtrain.Tests.Coordinator;

public sealed class RendezvousGrainTests : ClusterTest
{
    private IRendezvousGrain NewRendezvous() => Grains.GetGrain<IRendezvousGrain>(Guid.NewGuid().ToString());

    private static WorkerRegistration Worker(int port) => new() { PeerAddress = $"http://10.0.0.{port}:7000", ProcessId = port };

    [Fact]
    public async Task Ranks_follow_join_order_and_are_handed_out_only_when_the_world_is_full()
    {
        var rendezvous = NewRendezvous();
        await rendezvous.OpenAsync(3);
        string first = (await rendezvous.JoinAsync(Worker(7))).WorkerId!;
        string second = (await rendezvous.JoinAsync(Worker(3))).WorkerId!;
        Assert.Null(await rendezvous.GetAssignmentAsync(first));

        string third = (await rendezvous.JoinAsync(Worker(5))).WorkerId!;

        var assignments = new[] { first, second, third }.Select(id => rendezvous.GetAssignmentAsync(id).Result!).ToArray();
        Assert.Equal([0, 1, 2], assignments.Select(a => a.Rank));
        string[] peers = ["http://10.0.0.7:7000", "http://10.0.0.3:7000", "http://10.0.0.5:7000"];
        Assert.All(assignments, a => Assert.Equal(peers, a.PeerAddresses));
        Assert.All(assignments, a => Assert.Equal(1, a.Epoch));
    }

    [Fact]
    public async Task Requested_ranks_are_honoured_and_the_others_fill_the_gaps_in_join_order()
    {
        var rendezvous = NewRendezvous();
        await rendezvous.OpenAsync(4);
        var ids = new List<string>();
        foreach (var (port, requested) in new (int, int?)[] { (1, null), (2, 3), (3, null), (4, 0) })
        {
            ids.Add((await rendezvous.JoinAsync(Worker(port) with { RequestedRank = requested })).WorkerId!);
        }

        var assignments = ids.Select(id => rendezvous.GetAssignmentAsync(id).Result!).ToArray();
        Assert.Equal([1, 3, 2, 0], assignments.Select(a => a.Rank));
        Assert.Equal(["http://10.0.0.4:7000", "http://10.0.0.1:7000", "http://10.0.0.3:7000", "http://10.0.0.2:7000"], assignments[0].PeerAddresses);
    }

    [Fact]
    public async Task A_taken_or_impossible_rank_is_refused()
    {
        var rendezvous = NewRendezvous();
        await rendezvous.OpenAsync(2);
        await rendezvous.JoinAsync(Worker(1) with { RequestedRank = 1 });
        Assert.Equal("rank 1 is already taken", (await rendezvous.JoinAsync(Worker(2) with { RequestedRank = 1 })).Refusal);
        Assert.Equal("rank 2 is not a rank of a job of 2 workers", (await rendezvous.JoinAsync(Worker(3) with { RequestedRank = 2 })).Refusal);
        Assert.Equal(1, await rendezvous.GetJoinedCountAsync());
    }

    [Fact]
    public async Task A_worker_beyond_the_world_size_is_refused()
    {
        var rendezvous = NewRendezvous();
        await rendezvous.OpenAsync(1);
        await rendezvous.JoinAsync(Worker(1));

        var refused = await rendezvous.JoinAsync(Worker(2));
        Assert.Null(refused.WorkerId);
        Assert.Equal("the job already has its 1 workers", refused.Refusal);
        Assert.Equal(1, await rendezvous.GetJoinedCountAsync());
    }

    [Fact]
    public async Task Joining_before_the_rendezvous_opens_or_asking_for_an_unknown_worker_fails()
    {
        var rendezvous = NewRendezvous();
        var early = await rendezvous.JoinAsync(Worker(1));
        Assert.Equal("the job's rendezvous is not open yet", early.Refusal);

        await rendezvous.OpenAsync(2);
        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => rendezvous.GetAssignmentAsync("nobody"));
        Assert.StartsWith("unknown worker id 'nobody'", unknown.Message);
    }

    [Fact]
    public async Task Reopening_with_another_size_is_refused()
    {
        var rendezvous = NewRendezvous();
        await rendezvous.OpenAsync(2);
        await rendezvous.OpenAsync(2);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => rendezvous.OpenAsync(4));
        Assert.Equal("the rendezvous is already open for 2 workers, not 4", refused.Message);
    }
}

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
        await rendezvous.OpenAsync(RendezvousRules.Fixed(3));
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
        await rendezvous.OpenAsync(RendezvousRules.Fixed(4));
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
        await rendezvous.OpenAsync(RendezvousRules.Fixed(2));
        await rendezvous.JoinAsync(Worker(1) with { RequestedRank = 1 });
        Assert.Equal("rank 1 is already taken", (await rendezvous.JoinAsync(Worker(2) with { RequestedRank = 1 })).Refusal);
        Assert.Equal("rank 2 is not a rank of a job of 2 workers", (await rendezvous.JoinAsync(Worker(3) with { RequestedRank = 2 })).Refusal);
        Assert.Equal([1], await rendezvous.GetMemberProcessIdsAsync());
    }

    [Fact]
    public async Task A_worker_beyond_the_world_size_is_refused()
    {
        var rendezvous = NewRendezvous();
        await rendezvous.OpenAsync(RendezvousRules.Fixed(1));
        await rendezvous.JoinAsync(Worker(1));

        var refused = await rendezvous.JoinAsync(Worker(2));
        Assert.Null(refused.WorkerId);
        Assert.Equal("the job already has its 1 workers", refused.Refusal);
        Assert.Equal([1], await rendezvous.GetMemberProcessIdsAsync());
    }

    [Fact]
    public async Task Joining_before_the_rendezvous_opens_or_asking_for_an_unknown_worker_fails()
    {
        var rendezvous = NewRendezvous();
        var early = await rendezvous.JoinAsync(Worker(1));
        Assert.Equal("the job's rendezvous is not open yet", early.Refusal);

        await rendezvous.OpenAsync(RendezvousRules.Fixed(2));
        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => rendezvous.GetAssignmentAsync("nobody"));
        Assert.StartsWith("unknown worker id 'nobody'", unknown.Message);
    }

    [Fact]
    public async Task Reopening_with_another_size_is_refused()
    {
        var rendezvous = NewRendezvous();
        await rendezvous.OpenAsync(RendezvousRules.Fixed(2));
        await rendezvous.OpenAsync(RendezvousRules.Fixed(2));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => rendezvous.OpenAsync(RendezvousRules.Fixed(4)));
        Assert.Equal("the rendezvous is already open for 2 workers, not 4 workers", refused.Message);
    }

    [Fact]
    public async Task With_the_minimum_the_epoch_waits_for_the_last_call_then_starts_short_handed()
    {
        var rendezvous = NewRendezvous();
        await rendezvous.OpenAsync(new RendezvousRules { MinWorkers = 2, MaxWorkers = 3, LastCall = TimeSpan.FromMilliseconds(600) });
        string first = (await rendezvous.JoinAsync(Worker(1))).WorkerId!;
        Assert.Null(await rendezvous.GetAssignmentAsync(first));
        string second = (await rendezvous.JoinAsync(Worker(2))).WorkerId!;
        Assert.Null(await rendezvous.GetAssignmentAsync(second));

        var waited = System.Diagnostics.Stopwatch.StartNew();
        RankAssignment? assignment;
        while ((assignment = await rendezvous.GetAssignmentAsync(second)) is null) await Task.Delay(20);

        Assert.InRange(waited.Elapsed.TotalSeconds, 0.4, 5);
        Assert.Equal(1, assignment.Rank);
        Assert.Equal(2, assignment.PeerAddresses.Count);
        Assert.Equal(2, assignment.ProcessId);
        // A third worker that comes after the start could join a next epoch; the coordinator decides.
        var late = await rendezvous.JoinAsync(Worker(3));
        Assert.True(late.CouldGrow);
        Assert.Equal("epoch 1 already trains with 2 workers", late.Refusal);
    }

    [Fact]
    public async Task A_short_handed_epoch_renumbers_requested_ranks_beyond_its_world()
    {
        // An Indexed Job of 3 pods, whose pod 1 is gone: indexes 2 and 0 start an epoch of 2.
        var rendezvous = NewRendezvous();
        await rendezvous.OpenAsync(new RendezvousRules { MinWorkers = 2, MaxWorkers = 3, LastCall = TimeSpan.FromMilliseconds(100) });
        string second = (await rendezvous.JoinAsync(Worker(2) with { RequestedRank = 2 })).WorkerId!;
        string first = (await rendezvous.JoinAsync(Worker(1) with { RequestedRank = 0 })).WorkerId!;

        RankAssignment? assignment;
        while ((assignment = await rendezvous.GetAssignmentAsync(second)) is null) await Task.Delay(20);
        Assert.Equal(1, assignment.Rank);
        Assert.Equal(0, (await rendezvous.GetAssignmentAsync(first))!.Rank);
        Assert.Equal(["http://10.0.0.1:7000", "http://10.0.0.2:7000"], assignment.PeerAddresses);
    }

    [Fact]
    public async Task The_most_workers_start_the_epoch_at_once_and_a_full_world_does_not_grow()
    {
        var rendezvous = NewRendezvous();
        await rendezvous.OpenAsync(new RendezvousRules { MinWorkers = 1, MaxWorkers = 2, LastCall = TimeSpan.FromMinutes(5) });
        string first = (await rendezvous.JoinAsync(Worker(1))).WorkerId!;
        await rendezvous.JoinAsync(Worker(2));

        Assert.Equal(2, (await rendezvous.GetAssignmentAsync(first))!.PeerAddresses.Count);
        Assert.False((await rendezvous.JoinAsync(Worker(3))).CouldGrow);
    }

    [Fact]
    public async Task An_epoch_short_of_its_minimum_after_the_join_timeout_fails()
    {
        var rendezvous = NewRendezvous();
        await rendezvous.OpenAsync(new RendezvousRules { MinWorkers = 3, MaxWorkers = 3, JoinTimeout = TimeSpan.FromMilliseconds(300) });
        string first = (await rendezvous.JoinAsync(Worker(1))).WorkerId!;
        await rendezvous.JoinAsync(Worker(2));
        await Task.Delay(400);

        var timedOut = await Assert.ThrowsAsync<TimeoutException>(() => rendezvous.GetAssignmentAsync(first));
        Assert.Equal("epoch 1 has 2 of its minimum 3 workers after 0.3 s", timedOut.Message);
    }

    [Fact]
    public async Task An_epoch_no_worker_joins_fails_the_job_at_its_join_timeout()
    {
        string id = Guid.NewGuid().ToString();
        await Grains.GetGrain<IRendezvousGrain>(id).OpenAsync(new RendezvousRules { MinWorkers = 1, MaxWorkers = 1, JoinTimeout = TimeSpan.FromMilliseconds(300) });
        var job = Grains.GetGrain<IJobGrain>(id);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        JobStatus status;
        while ((status = await job.GetStatusAsync()).State != JobState.Failed && DateTime.UtcNow < deadline) await Task.Delay(50);

        Assert.Equal("epoch 1 has 0 of its minimum 1 workers after 0.3 s", status.Failure);
    }

    [Fact]
    public async Task A_new_epoch_forgets_the_last_ones_workers_and_numbers_its_own()
    {
        var rendezvous = NewRendezvous();
        await rendezvous.OpenAsync(RendezvousRules.Fixed(2));
        string old = (await rendezvous.JoinAsync(Worker(1))).WorkerId!;
        await rendezvous.JoinAsync(Worker(2));
        Assert.Contains(2, await rendezvous.GetMemberProcessIdsAsync());

        Assert.Equal(2, await rendezvous.NewEpochAsync());
        Assert.DoesNotContain(2, await rendezvous.GetMemberProcessIdsAsync());
        await Assert.ThrowsAsync<ArgumentException>(() => rendezvous.GetAssignmentAsync(old));
        string second = (await rendezvous.JoinAsync(Worker(2))).WorkerId!;
        string first = (await rendezvous.JoinAsync(Worker(3))).WorkerId!;
        var assignment = (await rendezvous.GetAssignmentAsync(first))!;
        Assert.Equal((1, 2L), (assignment.Rank, assignment.Epoch));
        Assert.Equal(0, (await rendezvous.GetAssignmentAsync(second))!.Rank);
    }
}

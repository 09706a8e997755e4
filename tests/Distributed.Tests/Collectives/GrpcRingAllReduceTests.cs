using Dtrain.Collectives;
using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Contracts.Collectives;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dtrain.Tests.Collectives;

public class GrpcRingAllReduceTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 5)]
    [InlineData(2, 0)]
    [InlineData(2, 1)]
    [InlineData(2, 1001)]
    [InlineData(3, 0)]
    [InlineData(3, 1)]
    [InlineData(3, 10_000)]
    public async Task Every_rank_gets_the_oracle_result_bitwise_over_loopback(int ranks, int length)
    {
        var inputs = RingOracle.RandomInputs(ranks, length, seed: 31 * ranks + length);
        var expected = RingOracle.Reduce(inputs, average: true);
        await using var group = await GrpcGroup.StartAsync(ranks);

        await group.AllReduceAsync(inputs, ReduceOp.Average);

        foreach (var buffer in inputs) Assert.Equal(expected, buffer);
    }

    [Fact]
    public async Task Messages_larger_than_a_frame_are_split_and_reassembled_across_repeated_calls()
    {
        await using var group = await GrpcGroup.StartAsync(3, new GrpcTransportOptions { FrameBytes = 4096 });
        for (int round = 0; round < 3; round++)
        {
            var inputs = RingOracle.RandomInputs(3, 30_001, seed: round);
            var expected = RingOracle.Reduce(inputs, average: false);
            await group.AllReduceAsync(inputs, ReduceOp.Sum);
            foreach (var buffer in inputs) Assert.Equal(expected, buffer);
        }
    }

    [Fact]
    public async Task A_peer_without_the_job_token_is_refused()
    {
        await using var group = await GrpcGroup.StartAsync(1);
        using var channel = GrpcChannel.ForAddress(group.Endpoints[0].PeerAddress);
        using var call = new Peer.PeerClient(channel).Send(new Metadata { { "dtrain-rank", "0" }, { "dtrain-job-token", "wrong" } });

        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await call.RequestStream.WriteAsync(new Frame { Sequence = 0, EndOfMessage = true });
            await call.RequestStream.CompleteAsync();
            await call.ResponseAsync;
        });
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [Fact]
    public async Task A_receive_that_waits_too_long_fails_with_a_message_naming_the_peer()
    {
        await using var group = await GrpcGroup.StartAsync(2, new GrpcTransportOptions { ReceiveTimeout = TimeSpan.FromMilliseconds(200) });
        var error = await Assert.ThrowsAsync<CollectiveException>(() => group.Communicators[0].ReceiveAsync(1, new byte[4]).AsTask());
        Assert.Equal("rank 0 waited 0.2 s for a message from rank 1", error.Message);
    }

    [Fact]
    public async Task A_peer_that_leaves_fails_the_pending_receive_instead_of_hanging()
    {
        await using var group = await GrpcGroup.StartAsync(2);
        await group.Communicators[1].SendAsync(0, new byte[4]);
        await group.Communicators[0].ReceiveAsync(1, new byte[4]);

        var pending = group.Communicators[0].ReceiveAsync(1, new byte[4]).AsTask();
        await group.Communicators[1].DisposeAsync();

        var lost = await Assert.ThrowsAsync<PeerLostException>(() => pending.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, lost.Peer);
    }

    [Fact]
    public async Task The_worker_endpoint_serves_collective_metrics()
    {
        await using var group = await GrpcGroup.StartAsync(2);
        await group.AllReduceAsync(RingOracle.RandomInputs(2, 100, seed: 3), ReduceOp.Sum);

        using var http = new HttpClient();
        string metrics = await http.GetStringAsync(group.Endpoints[0].MetricsAddress);

        Assert.Contains("dtrain_collective_bytes_total{op=\"all_reduce\",transport=\"grpc\"}", metrics);
        Assert.Contains("dtrain_collective_duration_seconds_count{op=\"all_reduce\",transport=\"grpc\"}", metrics);
    }
}

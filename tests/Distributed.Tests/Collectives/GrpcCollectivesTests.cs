using Dtrain.Collectives;
using Dtrain.Collectives.Transports.DataChannels;
using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Contracts.Collectives;
using Dtrain.Contracts.Network;
using Grpc.Core;
using Grpc.Net.Client;
using static Dtrain.Tests.Collectives.Conformance;

namespace Dtrain.Tests.Collectives;

/// <summary>
/// The collectives over the gRPC transport between Kestrel endpoints on loopback, on each of its data channels:
/// shared memory, TCP sockets, and the gRPC streams themselves.
/// </summary>
public class GrpcCollectivesTests
{
    public static TheoryData<DataChannel> Channels() => new(DataChannel.Shm, DataChannel.Tcp, DataChannel.Http2);

    public static TheoryData<int, DataChannel> SizesOnChannels()
    {
        var data = new TheoryData<int, DataChannel>();
        foreach (int size in new[] { 1, 2, 3, 4 })
        {
            foreach (var channel in new[] { DataChannel.Shm, DataChannel.Tcp, DataChannel.Http2 }) data.Add(size, channel);
        }
        return data;
    }

    private static GrpcTransportOptions On(DataChannel channel) => new() { DataChannel = channel };

    private static readonly CommunicatorOptions Ring = new() { AllReduceAlgorithm = AllReduceAlgorithm.Ring, Timeout = TimeSpan.FromSeconds(30) };
    private static readonly CommunicatorOptions Doubling = Ring with { AllReduceAlgorithm = AllReduceAlgorithm.RecursiveDoubling };

    [Theory]
    [MemberData(nameof(SizesOnChannels))]
    public async Task Every_operation_matches_the_oracle(int size, DataChannel channel)
    {
        await using var group = await GrpcGroup.StartAsync(size, Ring, On(channel));
        var comms = group.Communicators;
        await OnAllRanks(comms, comm => RankChecks.AllReduce<float>(comm, ReduceOp.Average, 1, RankChecks.Lengths));
        await OnAllRanks(comms, comm => RankChecks.AllReduce<BFloat16>(comm, ReduceOp.Sum, 2, RankChecks.Lengths));
        await OnAllRanks(comms, comm => RankChecks.AllReduce<long>(comm, ReduceOp.Max, 3, RankChecks.Lengths));
        await OnAllRanks(comms, comm => RankChecks.AllGather<double>(comm, 4));
        await OnAllRanks(comms, comm => RankChecks.AllGatherVariable<float>(comm, 5));
        await OnAllRanks(comms, comm => RankChecks.ReduceScatter<float>(comm, ReduceOp.Min, 6));
        await OnAllRanks(comms, comm => RankChecks.BroadcastFromEveryRoot<long>(comm, 7));
        await OnAllRanks(comms, comm => RankChecks.ReduceToEveryRoot<float>(comm, ReduceOp.Sum, 8));
        await OnAllRanks(comms, RankChecks.Barrier);
        await OnAllRanks(comms, comm => RankChecks.SendReceive(comm, 9));
        await OnAllRanks(comms, comm => RankChecks.SplitAndReduceInSubgroups(comm, 10));
    }

    [Theory]
    [MemberData(nameof(SizesOnChannels))]
    public async Task Recursive_doubling_matches_its_oracle(int size, DataChannel channel)
    {
        await using var group = await GrpcGroup.StartAsync(size, Doubling, On(channel));
        await OnAllRanks(group.Communicators, comm => RankChecks.AllReduce<float>(comm, ReduceOp.Sum, 11, RankChecks.Lengths));
    }

    /// <summary>The ring sends a block in segments of 1 MiB and posts their receives at once: blocks of several segments.</summary>
    [Theory]
    [MemberData(nameof(Channels))]
    public async Task Blocks_of_several_segments_match_the_oracle(DataChannel channel)
    {
        await using var group = await GrpcGroup.StartAsync(3, Ring, On(channel));
        await OnAllRanks(group.Communicators, comm => RankChecks.AllReduce<float>(comm, ReduceOp.Sum, 24, 2_500_001));
    }

    [Fact]
    public async Task Messages_larger_than_a_frame_are_split_and_reassembled()
    {
        await using var group = await GrpcGroup.StartAsync(3, Ring, new GrpcTransportOptions { FrameBytes = 4096, DataChannel = DataChannel.Http2 });
        for (int round = 0; round < 3; round++)
        {
            await OnAllRanks(group.Communicators, comm => RankChecks.AllReduce<float>(comm, ReduceOp.Sum, round, 30_001));
        }
    }

    [Theory]
    [MemberData(nameof(Channels))]
    public async Task A_mismatch_across_processes_names_both_sides(DataChannel channel)
    {
        await using var group = await GrpcGroup.StartAsync(2, Ring with { Timeout = TimeSpan.FromSeconds(5) }, On(channel));
        var a = group.Communicators[0].AllReduceAsync<float>(new float[8]);
        var b = group.Communicators[1].AllReduceAsync<double>(new double[8]);
        var error = await Assert.ThrowsAsync<CollectiveMismatchException>(() => a);
        Assert.Contains("rank 0 is in all_reduce #1 of 8 float32 but rank 1 sent all_reduce #1 of 8 float64", error.Message);
        await Assert.ThrowsAnyAsync<CollectiveException>(() => b);
    }

    [Fact]
    public async Task A_peer_without_the_job_token_is_refused_and_counted()
    {
        await using var group = await GrpcGroup.StartAsync(1);
        string metrics = group.Endpoints[0].MetricsAddress, series = Scrape.Rejected("peer", "token");
        double before = await Scrape.ValueAsync(metrics, series);

        var refused = await RefusedStreamAsync(group, new Metadata { { "dtrain-rank", "0" }, { "dtrain-job-token", "wrong" } });

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal("this peer does not hold the job's token", refused.Status.Detail);
        Assert.Equal(before + 1, await Scrape.ValueAsync(metrics, series));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("one")]
    [InlineData("-1")]
    public async Task A_peer_stream_without_a_usable_rank_header_is_refused(string? rank)
    {
        await using var group = await GrpcGroup.StartAsync(1);
        var headers = new Metadata { { "dtrain-job-token", "test-token" } };
        if (rank is not null) headers.Add("dtrain-rank", rank);

        var refused = await RefusedStreamAsync(group, headers);

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal("missing or bad dtrain-rank header", refused.Status.Detail);
    }

    [Fact]
    public async Task A_peer_stream_claiming_a_rank_or_epoch_it_cannot_have_is_refused_and_counted()
    {
        await using var group = await GrpcGroup.StartAsync(2);
        group.Inboxes[0].EpochArrival = TimeSpan.FromMilliseconds(300);
        string metrics = group.Endpoints[0].MetricsAddress;
        string claims = Scrape.Rejected("peer", "claim");
        double claimsBefore = await Scrape.ValueAsync(metrics, claims);
        Metadata Claiming(string rank, string epoch) => new() { { "dtrain-rank", rank }, { "dtrain-job-token", "test-token" }, { "dtrain-epoch", epoch } };

        var outOfRange = await RefusedStreamAsync(group, Claiming("99", "1"));
        var futureEpoch = await RefusedStreamAsync(group, Claiming("1", "999"));

        Assert.Equal((StatusCode.InvalidArgument, "rank 99 is not a rank of epoch 1 (2 workers)"), (outOfRange.StatusCode, outOfRange.Status.Detail));
        Assert.Equal((StatusCode.InvalidArgument, "epoch 999 is not an epoch this worker is in"), (futureEpoch.StatusCode, futureEpoch.Status.Detail));
        Assert.Equal(claimsBefore + 2, await Scrape.ValueAsync(metrics, claims));
        // The real rank 1 still gets through.
        await OnAllRanks(group.Communicators, comm => RankChecks.AllReduce<float>(comm, ReduceOp.Sum, 5, RankChecks.Lengths));
    }

    [Fact]
    public async Task With_tls_peers_talk_over_https_and_refuse_cleartext_and_untrusting_clients()
    {
        using var certificates = new TestCertificates();
        var tls = GrpcTls.Load(certificates.CertificateFile, certificates.KeyFile, certificates.AuthorityFile);
        await using var group = await GrpcGroup.StartAsync(2, Ring, new GrpcTransportOptions { Tls = tls });
        await OnAllRanks(group.Communicators, comm => RankChecks.AllReduce<float>(comm, ReduceOp.Sum, 12, RankChecks.Lengths));

        string address = group.Endpoints[0].PeerAddress;
        Assert.StartsWith("https://", address);
        var headers = new Metadata { { "dtrain-rank", "1" }, { "dtrain-job-token", "test-token" } };
        var untrusting = await RefusedStreamAsync(group, headers);
        Assert.StartsWith("TLS handshake failed: ", GrpcTls.HandshakeFailure(untrusting));
        var cleartext = await RefusedStreamAsync(group, headers, "http://" + address["https://".Length..]);
        Assert.Equal(StatusCode.Unavailable, cleartext.StatusCode);
        Assert.Null(GrpcTls.HandshakeFailure(cleartext));
    }

    private static async Task<RpcException> RefusedStreamAsync(GrpcGroup group, Metadata headers, string? address = null)
    {
        using var channel = GrpcChannel.ForAddress(address ?? group.Endpoints[0].PeerAddress);
        using var call = new Peer.PeerClient(channel).Send(headers);
        try
        {
            await call.RequestStream.WriteAsync(new Frame { EndOfMessage = true });
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or IOException or InvalidOperationException)
        {
            // The call may end before the write does; its response holds the status it ended with.
        }
        return await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
    }

    [Fact]
    public async Task Frames_are_the_protobuf_encoding_of_the_proto_file()
    {
        // A client generated from protos/collectives.proto talks to the hand-written decoder.
        await using var group = await GrpcGroup.StartAsync(2, transportOptions: On(DataChannel.Http2));
        using var channel = GrpcChannel.ForAddress(group.Endpoints[0].PeerAddress);
        using var call = new Peer.PeerClient(channel).Send(new Metadata { { "dtrain-rank", "1" }, { "dtrain-job-token", "test-token" }, { "dtrain-epoch", "1" } });
        float[] values = [1.5f, -2.25f, 3e7f];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        var header = new Header { Context = 0, Sequence = 1, Op = (int)CollectiveOp.PointToPoint, DataType = (int)DataType.Float32, Count = 3, PayloadBytes = 12 };
        await call.RequestStream.WriteAsync(new Frame { Header = header, Payload = Google.Protobuf.ByteString.CopyFrom(bytes, 0, 8) });
        await call.RequestStream.WriteAsync(new Frame { Payload = Google.Protobuf.ByteString.CopyFrom(bytes, 8, 4), EndOfMessage = true });

        var received = new float[3];
        await group.Communicators[0].ReceiveAsync<float>(1, received);
        Assert.Equal(values, received);
        await call.RequestStream.CompleteAsync();
        Assert.Equal(1, (await call.ResponseAsync).Messages);
    }

    [Theory]
    [MemberData(nameof(Channels))]
    public async Task A_peer_that_leaves_fails_the_pending_receive_instead_of_hanging(DataChannel channel)
    {
        await using var group = await GrpcGroup.StartAsync(2, transportOptions: On(channel));
        var pending = group.Communicators[0].ReceiveAsync<float>(1, new float[4]);
        await group.Communicators[1].DisposeAsync();
        // Rank 1 never sent anything: its stream was never opened. Open and close one to make it leave.
        await using var rank1 = GrpcCommunicator.CreateWorld(
            new GrpcTransport(1, group.Endpoints.Select(e => e.PeerAddress).ToArray(), new PeerInbox("test-token"), "test-token", On(channel)));
        await rank1.SendAsync<float>(0, new float[4]);
        await rank1.DisposeAsync();
        await pending;

        var lost = await Assert.ThrowsAsync<PeerLostException>(
            () => group.Communicators[0].ReceiveAsync<float>(1, new float[4]).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, lost.Peer);
    }

    [Theory]
    [MemberData(nameof(Channels))]
    public async Task Messages_of_an_epoch_the_worker_left_never_reach_its_next_epoch(DataChannel channel)
    {
        await using var group = await GrpcGroup.StartAsync(2, transportOptions: On(channel));
        // Rank 1 sends in epoch 1, but rank 0 leaves that epoch without reading it.
        await group.Communicators[1].SendAsync<float>(0, new float[] { 1f, 2f });
        group.Inboxes[0].Retire(1);

        string[] addresses = group.Endpoints.Select(e => e.PeerAddress).ToArray();
        await using var rank0 = GrpcCommunicator.CreateWorld(new GrpcTransport(0, addresses, group.Inboxes[0], "test-token", On(channel), epoch: 2));
        await using var rank1 = GrpcCommunicator.CreateWorld(new GrpcTransport(1, addresses, group.Inboxes[1], "test-token", On(channel), epoch: 2));
        await rank1.SendAsync<float>(0, new float[] { 3f, 4f });
        var received = new float[2];
        await rank0.ReceiveAsync<float>(1, received);
        Assert.Equal([3f, 4f], received);

        // A stream opened for the epoch rank 0 left is refused.
        using var grpc = GrpcChannel.ForAddress(addresses[0]);
        using var stale = new Peer.PeerClient(grpc).Send(new Metadata { { "dtrain-rank", "1" }, { "dtrain-job-token", "test-token" }, { "dtrain-epoch", "1" } });
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await stale.RequestStream.WriteAsync(new Frame { EndOfMessage = true });
            await stale.ResponseAsync;
        });
        Assert.Equal((StatusCode.FailedPrecondition, "this worker has left epoch 1"), (refused.StatusCode, refused.Status.Detail));
    }

    [Theory]
    [MemberData(nameof(Channels))]
    public async Task Aborting_a_transport_fails_the_peers_waiting_on_it_at_once(DataChannel channel)
    {
        await using var group = await GrpcGroup.StartAsync(2, new CommunicatorOptions { Timeout = TimeSpan.FromMinutes(5) }, On(channel));
        await OnAllRanks(group.Communicators, comm => comm.AllReduceAsync<float>(new[] { comm.Rank + 0.5f }, ReduceOp.Sum));
        var waiting = group.Communicators[0].ReceiveAsync<float>(1, new float[4]);

        var aborted = System.Diagnostics.Stopwatch.StartNew();
        group.Transports[1].Abort();

        var lost = await Assert.ThrowsAsync<PeerLostException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, lost.Peer);
        Assert.True(aborted.Elapsed < TimeSpan.FromSeconds(5), $"the receive failed {aborted.Elapsed.TotalSeconds:0.0} s after the abort");
    }

    [Fact]
    public async Task The_worker_endpoint_serves_collective_metrics()
    {
        await using var group = await GrpcGroup.StartAsync(2);
        await OnAllRanks(group.Communicators, comm => comm.AllGatherAsync<float>(new float[3], new float[6]));

        using var http = new HttpClient();
        string metrics = await http.GetStringAsync(group.Endpoints[0].MetricsAddress);

        Assert.Contains("dtrain_collective_bytes_total{op=\"all_gather\",transport=\"grpc\"}", metrics);
        Assert.Contains("dtrain_collective_duration_seconds_count{op=\"all_gather\",transport=\"grpc\"}", metrics);
    }
}

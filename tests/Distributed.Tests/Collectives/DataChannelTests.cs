using System.Net.Sockets;
using Dtrain.Collectives;
using Dtrain.Collectives.Transports.DataChannels;
using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Contracts.Collectives;
using Dtrain.Tests.Launcher;
using Grpc.Core;
using Grpc.Net.Client;
using static Dtrain.Tests.Collectives.Conformance;

namespace Dtrain.Tests.Collectives;

/// <summary>
/// How the gRPC transport's data channels are negotiated and guarded: which channel auto picks, who gets a channel,
/// and what a survivor sees when its peer process dies while a message flows. (Every collective on every channel:
/// <see cref="GrpcCollectivesTests"/>.)
/// </summary>
public class DataChannelTests
{
    [Fact]
    public async Task Auto_takes_shared_memory_between_processes_of_one_host()
    {
        await using var group = await GrpcGroup.StartAsync(2);
        await OnAllRanks(group.Communicators, comm => RankChecks.AllReduce<float>(comm, ReduceOp.Sum, 21, 100_000));

        Assert.Equal(DataChannel.Shm, group.Transports[0].ChannelTo(1));
        Assert.Equal(DataChannel.Shm, group.Transports[1].ChannelTo(0));
    }

    /// <summary>Parts of at least 256 KiB: a 1 MiB segment goes over all 3 sockets, smaller messages over the first alone.</summary>
    [Fact]
    public async Task A_tcp_channel_of_several_sockets_stripes_large_messages_and_keeps_their_order()
    {
        var ring = new CommunicatorOptions { AllReduceAlgorithm = AllReduceAlgorithm.Ring };
        await using var group = await GrpcGroup.StartAsync(3, ring, new GrpcTransportOptions { DataChannel = DataChannel.Tcp, TcpSockets = 3 });
        await OnAllRanks(group.Communicators, comm => RankChecks.AllReduce<float>(comm, ReduceOp.Sum, 25, 2_500_001));
        await OnAllRanks(group.Communicators, comm => RankChecks.AllGather<double>(comm, 26));
        Assert.Equal([(0, 262_144), (262_144, 262_144), (524_288, 262_144), (786_432, 262_145)], Stripes.Parts(1_048_577, 4));
        Assert.Equal([(0, 300_000)], Stripes.Parts(300_000, 3));
    }

    [Fact]
    public async Task Auto_falls_back_to_tcp_when_the_peer_cannot_map_the_ring()
    {
        await using var group = await GrpcGroup.StartAsync(2, transportOptions: new GrpcTransportOptions { SharedMemoryDirectory = "/tmp" });
        await OnAllRanks(group.Communicators, comm => RankChecks.AllReduce<float>(comm, ReduceOp.Sum, 23, 5_000));

        Assert.Equal(DataChannel.Tcp, group.Transports[0].ChannelTo(1));
    }

    [Fact]
    public async Task Auto_without_cleartext_bulk_bytes_under_tls_falls_back_to_the_grpc_streams_when_shared_memory_is_refused()
    {
        using var certificates = new TestCertificates();
        var tls = Dtrain.Contracts.Network.GrpcTls.Load(certificates.CertificateFile, certificates.KeyFile, certificates.AuthorityFile);
        // A path the receiver refuses to map stands for a pod without the sender's /dev/shm.
        await using var group = await GrpcGroup.StartAsync(2, transportOptions: new GrpcTransportOptions { Tls = tls, SharedMemoryDirectory = "/tmp" });
        await OnAllRanks(group.Communicators, comm => RankChecks.AllReduce<float>(comm, ReduceOp.Sum, 22, 5_000));

        Assert.Equal(DataChannel.Http2, group.Transports[0].ChannelTo(1));
    }

    [Fact]
    public async Task A_caller_without_the_job_token_gets_no_channel()
    {
        await using var group = await GrpcGroup.StartAsync(1);
        using var grpc = GrpcChannel.ForAddress(group.Endpoints[0].PeerAddress);
        using var call = new Peer.PeerClient(grpc).OpenChannel(new Metadata { { "dtrain-rank", "1" }, { "dtrain-job-token", "wrong" }, { "dtrain-epoch", "1" } });

        // The refusal comes from the call's headers alone; a request written meanwhile could race with it.
        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal((StatusCode.Unauthenticated, "this peer does not hold the job's token"), (refused.StatusCode, refused.Status.Detail));
    }

    [Fact]
    public async Task A_socket_without_the_one_time_token_is_closed_and_counted()
    {
        await using var group = await GrpcGroup.StartAsync(1);
        using var grpc = GrpcChannel.ForAddress(group.Endpoints[0].PeerAddress);
        using var call = new Peer.PeerClient(grpc).OpenChannel(new Metadata { { "dtrain-rank", "0" }, { "dtrain-job-token", "test-token" }, { "dtrain-epoch", "1" } });
        await call.RequestStream.WriteAsync(new ChannelRequest { Kind = "tcp", TcpStripes = 1 });
        Assert.True(await call.ResponseStream.MoveNext());
        var offer = call.ResponseStream.Current;
        Assert.Equal("tcp", offer.Kind);
        string metrics = group.Endpoints[0].MetricsAddress, series = Scrape.Rejected("data", "token");
        double before = await Scrape.ValueAsync(metrics, series);

        using var forger = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await forger.ConnectAsync("127.0.0.1", offer.TcpPort);
        var forged = offer.TcpToken.ToByteArray();
        forged[0] ^= 1;
        await forger.SendAsync(forged.Concat(new byte[4]).ToArray(), SocketFlags.None);

        Assert.Equal(0, await forger.ReceiveAsync(new byte[1], SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(before + 1, await Scrape.ValueAsync(metrics, series));
    }

    /// <summary>
    /// Two real processes all-reduce 64 MiB over shared memory, again and again; one is killed (SIGKILL), most likely
    /// in the middle of a segment. The other must fail with the lost peer named, at once, not wait out its timeout.
    /// </summary>
    [Fact]
    public async Task A_peer_process_killed_mid_message_on_shared_memory_fails_the_survivor_at_once()
    {
        var ports = Enumerable.Range(0, 4).Select(_ => Dtrain.Contracts.Network.Ports.FindFree()).ToArray();
        var environment = new Dictionary<string, string> { ["DTRAIN_JOB_TOKEN"] = "kill-test-token" };
        string[] Rank(int r) => ["bench", "collectives", "--transport", "grpc", "--data-channel", "shm", "--ranks", "2", "--sizes", "64M",
            "--iters", "100000", "--warmup", "1", "--ports", string.Join(',', ports), "--rank", r.ToString()];
        using var survivor = DtrainProcess.Start(Rank(0), environment);
        using var victim = DtrainProcess.Start(Rank(1), environment);
        // Past the warm-up call, the ranks are in the timed all-reduces: the shared-memory channel carries data.
        await Task.Delay(TimeSpan.FromSeconds(8));
        Assert.True(DtrainProcess.IsRunning(survivor.Id), survivor.Stderr);

        var killed = System.Diagnostics.Stopwatch.StartNew();
        victim.Signal("KILL");
        int code = await survivor.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, code);
        Assert.Contains("lost the connection to rank 1", survivor.Stderr);
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(20), $"the survivor failed {killed.Elapsed.TotalSeconds:0.0} s after the kill");
    }
}

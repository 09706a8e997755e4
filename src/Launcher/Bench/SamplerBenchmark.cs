using System.Diagnostics;
using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Contracts.Network;
using Dtrain.Graph.Service;
using Dtrain.Graph.Generators;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Sampling;
using Dtrain.Hosting;
using Dtrain.Worker;

namespace Dtrain.Launcher.Bench;

/// <summary>
/// One configuration's timed batches. With several ranks, a batch is every rank sampling one batch at the same
/// time: <see cref="Seconds"/> is the wall time until the last finishes and <see cref="Edges"/> the sum. The
/// per-batch averages (inputs, feature bytes, remote requests) are per rank. <see cref="CpuSeconds"/> is the whole
/// process's CPU time per batch (the sampling services included), a figure that other load on the machine
/// disturbs less than wall time.
/// </summary>
public sealed record SamplerBenchRow(
    int Partitions, int Ranks, double[] Seconds, long[] Edges, double CpuSeconds, double InputNodes, double LocalBytes, double RemoteBytes,
    double CachedBytes, double RemoteRequests, int BatchesPerEpoch, double? MeasuredEpochSeconds)
{
    public double MedianSeconds => Median.Of(Seconds);

    public double MedianEdgesPerSecond => Median.Of(Edges.Select((edges, i) => edges / Seconds[i]).ToArray());

    public double MeanEdges => Edges.Average();

    /// <summary>Measured with --epoch; otherwise batches per epoch times the median batch time.</summary>
    public double EpochSeconds => MeasuredEpochSeconds ?? BatchesPerEpoch * MedianSeconds;
}

/// <summary>How long partitioning into <see cref="Parts"/> took and the share of edges whose source is owned elsewhere.</summary>
public sealed record PartitioningCost(int Parts, double Seconds, double EdgeCut);

public sealed record SamplerBenchResult(int NodeCount, long EdgeCount, double GenerateSeconds, IReadOnlyList<PartitioningCost> Partitionings, IReadOnlyList<SamplerBenchRow> Rows);

/// <summary>
/// Issue 6's benchmark: GraphSAGE-style neighbour sampling on an R-MAT graph generated in this process. The anchor
/// is the whole graph in one partition, sampled locally. For P &gt; 1 partitions, each partition is served by a real
/// worker endpoint on loopback (gRPC, as in a job); the rows are rank 0 sampling alone (its partition local, the
/// others remote) and all P ranks sampling at once, each its own training nodes.
/// </summary>
public sealed record SamplerBenchmark(
    int Scale, long Edges, IReadOnlyList<int> Fanouts, int BatchSize, IReadOnlyList<int> Partitions, PartitionMethod Method,
    int Batches, int Warmup, bool Epoch, int CacheRows, long Seed)
{
    private const string Token = "bench-sampler";

    public IEnumerable<string> Problems()
    {
        if (Scale is < 2 or > 26) yield return $"--scale must be in [2, 26], got {Scale}";
        if (Edges < 1) yield return $"--edges must be positive, got {Edges}";
        if (Fanouts.Count == 0 || Fanouts.Any(f => f < 1)) yield return $"--fanouts must be positive, got {string.Join(",", Fanouts)}";
        if (BatchSize < 1) yield return $"--batch must be positive, got {BatchSize}";
        if (!Partitions.Contains(1)) yield return $"--partitions must include 1, the anchor, got {string.Join(",", Partitions)}";
        if (Partitions.Any(p => p is < 1 or > 16)) yield return $"--partitions must be in [1, 16], got {string.Join(",", Partitions)}";
        if (Batches < 1) yield return $"--batches must be at least 1, got {Batches}";
        if (Warmup < 0) yield return $"--warmup must not be negative, got {Warmup}";
        if (CacheRows < 0) yield return $"--cache must not be negative, got {CacheRows}";
    }

    public async Task<SamplerBenchResult> RunAsync(CancellationToken ct)
    {
        long started = Stopwatch.GetTimestamp();
        var graph = RMat.Generate(new RMatOptions { Scale = Scale, EdgeCount = Edges, Seed = Seed });
        double generateSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var options = new SamplingOptions(Fanouts);
        var partitionings = new List<PartitioningCost>();
        var rows = new List<SamplerBenchRow>();
        foreach (int parts in Partitions.Distinct().Order())
        {
            started = Stopwatch.GetTimestamp();
            var partitioned = GraphPartitioner.Partition(graph, Method, parts, Seed);
            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            partitionings.Add(new PartitioningCost(parts, seconds, partitioned.Partitions.Sum(p => p.CountRemoteEdges()) / (double)graph.EdgeCount));

            var endpoints = new List<WorkerEndpoint>();
            try
            {
                // One partition needs no service: the anchor never leaves the process.
                for (int p = 0; parts > 1 && p < parts; p++)
                {
                    var inbox = new PeerInbox(Token);
                    var sampling = new SamplingEndpoint(new ServedPartitions(inbox.Admits));
                    var endpoint = await WorkerEndpoint.StartAsync(inbox, "127.0.0.1", "127.0.0.1", 0, 0, GrpcTls.None, [sampling], ConnectionLimits.Default, ct);
                    endpoints.Add(endpoint);
                    sampling.Served.Serve([new LocalPartition(partitioned.Partitions[p])]);
                }
                var addresses = endpoints.Select(endpoint => endpoint.PeerAddress).ToArray();
                var ranks = Enumerable.Range(0, parts)
                    .Select(rank => new SamplerRank(partitioned, rank, addresses, Token, options, BatchSize, CacheRows, Seed))
                    .ToArray();
                try
                {
                    rows.Add(await TimeAsync(parts, ranks[..1], ct));
                    if (parts > 1) rows.Add(await TimeAsync(parts, ranks, ct));
                }
                finally
                {
                    foreach (var rank in ranks) rank.Dispose();
                }
            }
            finally
            {
                foreach (var endpoint in endpoints) await endpoint.DisposeAsync();
            }
        }
        return new SamplerBenchResult(graph.NodeCount, graph.EdgeCount, generateSeconds, partitionings, rows);
    }

    private async Task<SamplerBenchRow> TimeAsync(int parts, SamplerRank[] ranks, CancellationToken ct)
    {
        var seconds = new double[Batches];
        var edges = new long[Batches];
        long inputs = 0, requestsBefore = 0;
        (long Local, long Remote, long Cached) bytesBefore = default;
        var cpuBefore = TimeSpan.Zero;
        for (int batch = -Warmup; batch < Batches; batch++)
        {
            if (batch == 0) (bytesBefore, requestsBefore, cpuBefore) = (SumBytes(ranks), ranks.Sum(rank => rank.RemoteRequests), Environment.CpuUsage.TotalTime);
            long started = Stopwatch.GetTimestamp();
            var sampled = await SampleAllAsync(ranks, batch + Warmup, ct);
            double elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (batch >= 0)
            {
                seconds[batch] = elapsed;
                edges[batch] = sampled.Sum(b => b.SampledEdges);
                inputs += sampled.Sum(b => (long)b.InputNodes.Length);
            }
            foreach (var done in sampled) done.Dispose();
        }
        double cpuSeconds = (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds / Batches;
        double perRankBatch = (double)Batches * ranks.Length;
        var bytes = SumBytes(ranks);
        long requests = ranks.Sum(rank => rank.RemoteRequests) - requestsBefore;

        int batchesPerEpoch = ranks.Max(rank => rank.BatchesPerEpoch);
        double? epochSeconds = null;
        if (Epoch)
        {
            long started = Stopwatch.GetTimestamp();
            for (int batch = 0; batch < batchesPerEpoch; batch++)
            {
                foreach (var done in await SampleAllAsync(ranks, batch, ct)) done.Dispose();
            }
            epochSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        }
        return new SamplerBenchRow(parts, ranks.Length, seconds, edges, cpuSeconds, inputs / perRankBatch,
            (bytes.Local - bytesBefore.Local) / perRankBatch, (bytes.Remote - bytesBefore.Remote) / perRankBatch,
            (bytes.Cached - bytesBefore.Cached) / perRankBatch, requests / perRankBatch, batchesPerEpoch, epochSeconds);
    }

    private static Task<MiniBatch[]> SampleAllAsync(SamplerRank[] ranks, int batch, CancellationToken ct) =>
        Task.WhenAll(ranks.Select(rank => rank.SampleAsync(batch, ct)));

    private static (long Local, long Remote, long Cached) SumBytes(SamplerRank[] ranks) =>
        (ranks.Sum(r => r.FeatureBytes.Local), ranks.Sum(r => r.FeatureBytes.Remote), ranks.Sum(r => r.FeatureBytes.Cached));
}

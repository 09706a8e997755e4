namespace Dtrain.Collectives;

public sealed record CommunicatorOptions
{
    /// <summary>How long any one wait for a peer may take before the collective fails (NCCL's default is 10 min).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>All-reduces of fewer bytes than this use recursive doubling (latency); larger ones the ring (bandwidth).</summary>
    public int SmallMessageBytes { get; init; } = 64 << 10;

    /// <summary>Forces one all-reduce algorithm whatever the size; null lets the size decide.</summary>
    public AllReduceAlgorithm? AllReduceAlgorithm { get; init; }
}

public enum AllReduceAlgorithm
{
    Ring,
    RecursiveDoubling,

    /// <summary>The transport's own implementation, where it has one (MPI's MPI_Allreduce).</summary>
    Transport,
}

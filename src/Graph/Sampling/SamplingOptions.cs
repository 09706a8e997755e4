using Dtrain.Contracts;

namespace Dtrain.Graph.Sampling;

/// <summary>
/// How a mini-batch is sampled. <see cref="Fanouts"/> go by hop from the seeds outwards, as in PyG's
/// NeighborLoader: Fanouts[0] neighbours of each seed (feeding the model's last layer), Fanouts[1] of each of
/// those, and so on. DGL lists them the other way round, by layer from the input side.
/// </summary>
public sealed record SamplingOptions
{
    public SamplingOptions(IReadOnlyList<int> fanouts, bool weighted = false, EdgeHoldout? holdout = null)
    {
        if (fanouts.Count == 0) throw new DtrainException("fanouts must list at least one hop");
        foreach (int fanout in fanouts)
        {
            if (fanout <= 0) throw new DtrainException($"every fanout must be positive, got {string.Join(",", fanouts)}");
        }
        (Fanouts, Weighted, Holdout) = (fanouts.ToArray(), weighted, holdout);
    }

    public IReadOnlyList<int> Fanouts { get; }

    /// <summary>Draw neighbours with probability proportional to edge weight instead of uniformly.</summary>
    public bool Weighted { get; }

    /// <summary>Edges that sampling skips (held out for link prediction); null samples every edge.</summary>
    public EdgeHoldout? Holdout { get; }

    public int Hops => Fanouts.Count;
}

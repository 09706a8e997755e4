using Dtrain.Contracts;
using Dtrain.Contracts.Randomness;

namespace Dtrain.Graph.Sampling;

/// <summary>
/// The edges link prediction holds out for testing: a fixed share of node pairs, chosen by a hash of the
/// unordered pair, so both directions of an undirected edge go together and every partition agrees without
/// exchanging a list. Sampling skips held-out edges, so no message ever crosses an edge the model is tested on.
/// </summary>
public sealed record EdgeHoldout
{
    public EdgeHoldout(ulong key, double fraction)
    {
        if (!(fraction >= 0 && fraction < 1)) throw new DtrainException($"the held-out share of edges must be in [0, 1), got {fraction}");
        (Key, Fraction) = (key, fraction);
    }

    public ulong Key { get; }

    public double Fraction { get; }

    public bool IsHeldOut(int u, int v)
    {
        ulong pair = ((ulong)(uint)Math.Min(u, v) << 32) | (uint)Math.Max(u, v);
        return (CounterRandom.Mix(Key ^ CounterRandom.Mix(pair)) >> 11) * (1.0 / (1UL << 53)) < Fraction;
    }
}

/// <summary>One hop's sampling request to a partition: how many neighbours, the hop's random key, and how.</summary>
public readonly record struct HopRequest(int Fanout, ulong Key, bool Weighted = false, EdgeHoldout? Holdout = null);

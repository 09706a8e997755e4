namespace Dtrain.Graph.Generators;

/// <summary>
/// The <see cref="Dtrain.Contracts.Randomness.CounterRandom"/> stream of each kind of draw. Listed in one place so
/// no two purposes share a stream: features never correlate with edges or the split for the same seed.
/// </summary>
internal static class RandomStreams
{
    public const long Centroids = 1, Features = 2, Split = 3, Edges = 4, Permutation = 5, Labels = 6, LevelNoise = 7;
}

using Dtrain.Contracts.Randomness;

namespace Dtrain.Graph.Generators;

internal static class SeededPermutation
{
    /// <summary>A uniformly random permutation of 0 .. count - 1 (Fisher-Yates), the same for the same seed and stream.</summary>
    public static int[] Create(int count, long seed, long stream)
    {
        var permutation = new int[count];
        for (int i = 0; i < count; i++) permutation[i] = i;
        var random = new CounterRandom(CounterRandom.Key(seed, stream, 0));
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (permutation[i], permutation[j]) = (permutation[j], permutation[i]);
        }
        return permutation;
    }
}

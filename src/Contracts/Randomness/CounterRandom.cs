using System.Runtime.CompilerServices;

namespace Dtrain.Contracts.Randomness;

/// <summary>
/// Counter-based random numbers (SplitMix64): the value for a key depends on the key alone, so any rank can
/// generate any sample without generating the ones before it, and results never depend on the world size.
/// </summary>
public struct CounterRandom(ulong key)
{
    private ulong state = Mix(key);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // a few instructions, in samplers' hot loops
    public static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static ulong Key(long seed, long stream, long index) =>
        Mix(Mix((ulong)seed ^ Mix((ulong)stream)) ^ (ulong)index);

    public ulong NextUInt64() => state = Mix(state);

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public int NextInt(int exclusiveMax) => (int)(NextUInt64() % (ulong)exclusiveMax);

    /// <summary>Shuffles in place (Fisher-Yates): every order equally likely.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>Standard normal by Box-Muller.</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}

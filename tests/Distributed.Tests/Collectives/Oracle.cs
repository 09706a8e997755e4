using Dtrain.Collectives;

namespace Dtrain.Tests.Collectives;

/// <summary>
/// Single-process references for every collective, combining elements in the same order as the distributed
/// algorithm, so that a correct implementation matches them bitwise (bfloat16 included: rounded after every
/// combination, as the algorithms do). The scalar arithmetic here is written independently of the library's.
/// </summary>
internal static class Oracle
{
    /// <summary>Ring all-reduce: block b is accumulated starting at rank b+1, each next rank adding itself in front.</summary>
    public static T[] RingAllReduce<T>(T[][] inputs, ReduceOp op) where T : unmanaged
    {
        int n = inputs.Length, length = inputs[0].Length;
        var result = new T[length];
        for (int block = 0; block < n; block++)
        {
            for (int i = Start(length, n, block); i < Start(length, n, block + 1); i++)
            {
                T acc = inputs[(block + 1) % n][i];
                for (int k = 2; k <= n; k++) acc = Combine(op, inputs[(block + k) % n][i], acc);
                result[i] = op == ReduceOp.Average ? Divide(acc, n) : acc;
            }
        }
        return result;
    }

    /// <summary>Recursive doubling: fold ranks p..n-1 into 0..n-p-1, then pairwise exchanges at distance 1, 2, 4, ...</summary>
    public static T[] RecursiveDoublingAllReduce<T>(T[][] inputs, ReduceOp op) where T : unmanaged
    {
        int n = inputs.Length, p = 1;
        while (p * 2 <= n) p *= 2;
        var values = inputs.Select(x => (T[])x.Clone()).ToArray();
        var result = new T[inputs[0].Length];
        for (int i = 0; i < result.Length; i++)
        {
            var v = Enumerable.Range(0, n).Select(r => values[r][i]).ToArray();
            for (int r = 0; r < n - p; r++) v[r] = Combine(op, v[r], v[r + p]);
            for (int mask = 1; mask < p; mask <<= 1)
            {
                var next = (T[])v.Clone();
                for (int r = 0; r < p; r++) next[r] = Combine(op, v[r], v[r ^ mask]);
                v = next;
            }
            result[i] = op == ReduceOp.Average ? Divide(v[0], n) : v[0];
        }
        return result;
    }

    /// <summary>Binomial-tree reduce to <paramref name="root"/>: relative rank v takes in v + 2^k at round k.</summary>
    public static T[] TreeReduce<T>(T[][] inputs, int root, ReduceOp op) where T : unmanaged
    {
        int n = inputs.Length;
        var result = new T[inputs[0].Length];
        for (int i = 0; i < result.Length; i++)
        {
            var acc = Enumerable.Range(0, n).Select(v => inputs[(v + root) % n][i]).ToArray();
            for (int mask = 1; mask < n; mask <<= 1)
                for (int v = 0; v + mask < n; v += 2 * mask)
                    acc[v] = Combine(op, acc[v], acc[v + mask]);
            result[i] = op == ReduceOp.Average ? Divide(acc[0], n) : acc[0];
        }
        return result;
    }

    public static int Start(int length, int parts, int block) => (int)((long)length * block / parts);

    public static T Combine<T>(ReduceOp op, T a, T b) where T : unmanaged => (object)a switch
    {
        float x => (T)(object)Float(op, x, (float)(object)b),
        double x => (T)(object)(op switch { ReduceOp.Max => Math.Max(x, (double)(object)b), ReduceOp.Min => Math.Min(x, (double)(object)b), _ => x + (double)(object)b }),
        long x => (T)(object)(op switch { ReduceOp.Max => Math.Max(x, (long)(object)b), ReduceOp.Min => Math.Min(x, (long)(object)b), _ => x + (long)(object)b }),
        BFloat16 x => (T)(object)(BFloat16)Float(op, (float)x, (float)(BFloat16)(object)b),
        _ => throw new NotSupportedException(typeof(T).Name),
    };

    private static float Float(ReduceOp op, float a, float b) =>
        op switch { ReduceOp.Max => MathF.Max(a, b), ReduceOp.Min => MathF.Min(a, b), _ => a + b };

    private static T Divide<T>(T value, int n) where T : unmanaged => (object)value switch
    {
        float x => (T)(object)(x / n),
        double x => (T)(object)(x / n),
        BFloat16 x => (T)(object)(BFloat16)((float)x / n),
        _ => throw new NotSupportedException(typeof(T).Name),
    };

    /// <summary>Seeded, non-symmetric data: every rank and element different, signs mixed.</summary>
    public static T[][] RandomInputs<T>(int ranks, int length, int seed) where T : unmanaged
    {
        var random = new Random(seed);
        return Enumerable.Range(0, ranks).Select(_ => Enumerable.Range(0, length).Select(_ => Random<T>(random)).ToArray()).ToArray();
    }

    private static T Random<T>(Random random) where T : unmanaged
    {
        double value = random.NextDouble() * 200 - 100;
        object boxed = typeof(T) == typeof(float) ? (float)value
            : typeof(T) == typeof(double) ? value
            : typeof(T) == typeof(long) ? (long)(value * 1e6)
            : typeof(T) == typeof(BFloat16) ? (BFloat16)(float)value
            : throw new NotSupportedException(typeof(T).Name);
        return (T)boxed;
    }
}

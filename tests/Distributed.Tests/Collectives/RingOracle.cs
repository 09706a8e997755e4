namespace Dtrain.Tests.Collectives;

/// <summary>
/// Single-process oracle for ring all-reduce, reproducing its summation order: chunk c starts at rank c, and
/// each next rank around the ring adds its own value to the running sum. Equal bitwise to a correct ring.
/// </summary>
internal static class RingOracle
{
    public static float[] Reduce(float[][] inputs, bool average)
    {
        int n = inputs.Length, length = inputs[0].Length;
        var result = new float[length];
        for (int chunk = 0; chunk < n; chunk++)
        {
            int start = (int)((long)length * chunk / n), end = (int)((long)length * (chunk + 1) / n);
            for (int i = start; i < end; i++)
            {
                float sum = inputs[chunk][i];
                for (int k = 1; k < n; k++)
                {
                    sum = inputs[(chunk + k) % n][i] + sum;
                }
                result[i] = average ? sum / n : sum;
            }
        }
        return result;
    }

    /// <summary>Seeded, non-symmetric data: every rank and element different, signs mixed.</summary>
    public static float[][] RandomInputs(int ranks, int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, ranks)
            .Select(_ => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 200 - 100)).ToArray())
            .ToArray();
    }
}

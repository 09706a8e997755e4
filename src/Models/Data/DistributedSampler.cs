using Dtrain.Contracts.Randomness;
namespace Dtrain.Models.Data;

/// <summary>
/// Which training samples a rank uses at each step, the way PyTorch's DistributedSampler does it: every epoch one
/// seeded permutation of the whole training set, rank r takes positions r, r+n, r+2n, ... of it, cut into
/// batches. So at step t the n ranks together use exactly the samples one process with an n-times larger batch
/// would use at step t, which is what makes data-parallel training equal to single-process training.
/// </summary>
public sealed class DistributedSampler
{
    private const long PermutationStream = 3;
    private readonly int datasetSize, rank, worldSize, batchSize;
    private readonly long seed;
    private int cachedEpoch = -1;
    private long[] shard = [];

    public DistributedSampler(int datasetSize, int rank, int worldSize, int batchSize, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, worldSize);
        BatchesPerEpoch = datasetSize / worldSize / batchSize;
        if (BatchesPerEpoch == 0)
        {
            throw new ArgumentException(
                $"batch size {batchSize} on {worldSize} ranks needs more than the {datasetSize} training samples");
        }
        (this.datasetSize, this.rank, this.worldSize, this.batchSize, this.seed) =
            (datasetSize, rank, worldSize, batchSize, seed);
    }

    public int BatchesPerEpoch { get; }

    /// <summary>The dataset indices of this rank's batch at <paramref name="step"/> (steps count from 0).</summary>
    public ReadOnlySpan<long> BatchAt(int step)
    {
        int epoch = step / BatchesPerEpoch;
        if (epoch != cachedEpoch)
        {
            shard = ShardOf(Permutation(epoch));
            cachedEpoch = epoch;
        }
        return shard.AsSpan(step % BatchesPerEpoch * batchSize, batchSize);
    }

    /// <summary>The held-out indices this rank evaluates: positions rank, rank+n, ... of [first, first+count).</summary>
    public static long[] EvaluationShard(long first, int count, int rank, int worldSize)
    {
        var indices = new List<long>();
        for (long i = rank; i < count; i += worldSize) indices.Add(first + i);
        return [.. indices];
    }

    private long[] Permutation(int epoch)
    {
        var order = new long[datasetSize];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        new CounterRandom(CounterRandom.Key(seed, PermutationStream, epoch)).Shuffle<long>(order);
        return order;
    }

    private long[] ShardOf(long[] permutation)
    {
        var mine = new long[BatchesPerEpoch * batchSize];
        for (int k = 0; k < mine.Length; k++) mine[k] = permutation[rank + (long)k * worldSize];
        return mine;
    }
}

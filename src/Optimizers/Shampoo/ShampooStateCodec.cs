using Dtrain.Contracts;
using static TorchSharp.torch;

namespace Dtrain.Optimizers.Shampoo;

/// <summary>One block that this rank owns: its global number and its row in its stack.</summary>
internal readonly record struct OwnedBlock(int Index, BlockStack Stack, int Row);

/// <summary>
/// Shampoo state on disk, per rank: a magic string and version, the step count, then per owned block its global
/// number, its failed root computations and its state tensors, each as dtype, shape and raw bytes. Blocks are
/// stored one by one, not as stacks, so that a state saved by any number of ranks loads into any other.
/// </summary>
internal static class ShampooStateCodec
{
    private const string Magic = "dtrain-shampoo-state";
    private const int Version = 1;

    public static void Save(Stream stream, long step, IReadOnlyList<OwnedBlock> owned)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(step);
        writer.Write(owned.Count);
        foreach (var block in owned)
        {
            using var scope = NewDisposeScope();
            writer.Write(block.Index);
            writer.Write(block.Stack.FailedRootComputations(block.Row));
            foreach (var tensor in block.Stack.BlockState(block.Row)) TensorFormat.Write(writer, tensor);
        }
    }

    /// <summary>
    /// Loads the blocks in <paramref name="owned"/> from the states saved by every rank of a job, whatever its world
    /// size then, and returns the step count.
    /// </summary>
    /// <param name="stateTensors">How many state tensors any block holds, by its number: how another rank's block is skipped.</param>
    public static long Load(IEnumerable<Stream> shards, IReadOnlyDictionary<int, OwnedBlock> owned, Func<int, int> stateTensors)
    {
        var loaded = new HashSet<int>();
        long? step = null;
        foreach (var shard in shards)
        {
            using var reader = new BinaryReader(shard, System.Text.Encoding.UTF8, leaveOpen: true);
            if (reader.ReadString() != Magic || reader.ReadInt32() is var version && version != Version)
            {
                throw new DtrainException($"not a Shampoo state of format version {Version}");
            }
            long shardStep = reader.ReadInt64();
            if (step is { } known && known != shardStep)
            {
                throw new DtrainException($"the state shards disagree on the step: {known} and {shardStep}");
            }
            step = shardStep;
            int count = reader.ReadInt32();
            for (int i = 0; i < count; i++)
            {
                int index = reader.ReadInt32();
                int failures = reader.ReadInt32();
                if (owned.TryGetValue(index, out var block))
                {
                    using var scope = NewDisposeScope();
                    block.Stack.SetFailedRootComputations(block.Row, failures);
                    foreach (var tensor in block.Stack.BlockState(block.Row)) TensorFormat.ReadInto(reader, tensor, $"Shampoo block {index}");
                    loaded.Add(index);
                }
                else
                {
                    for (int t = stateTensors(index); t > 0; t--) TensorFormat.Skip(reader);
                }
            }
        }
        var missing = owned.Keys.Except(loaded).Order().ToArray();
        if (step is null) throw new DtrainException("no state shards were given");
        if (missing.Length > 0)
        {
            throw new DtrainException($"the state shards hold no state for block(s) {string.Join(", ", missing)}");
        }
        return step.Value;
    }
}

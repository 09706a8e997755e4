using Dtrain.Contracts;
using static TorchSharp.torch;

namespace Dtrain.Optimizers.Flat;

/// <summary>A parameter's (or a shard's) first and second Adam moments.</summary>
public sealed record AdamWMoments(Tensor ExpAvg, Tensor ExpAvgSq);

/// <summary>
/// AdamW state per parameter, shaped like the parameters and independent of how they were flattened, padded or
/// sharded: a checkpoint written on any number of ranks loads on any other. One step count serves all
/// parameters, since a flat optimizer steps them all together. On disk (<see cref="Save"/>): the string
/// "dtrain-adamw-state", the version (int32, 1), the step (int64), the parameter count (int32), then per parameter
/// in the optimizer's order exp_avg and exp_avg_sq, each as dtype (int32), rank (int64), sizes (int64 each) and
/// raw little-endian bytes.
/// </summary>
public sealed record AdamWState(long Step, IReadOnlyList<AdamWMoments> Parameters)
{
    public const string Magic = "dtrain-adamw-state";
    public const int Version = 1;

    public void Save(BinaryWriter writer)
    {
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(Step);
        writer.Write(Parameters.Count);
        foreach (var (expAvg, expAvgSq) in Parameters)
        {
            TensorFormat.Write(writer, expAvg);
            TensorFormat.Write(writer, expAvgSq);
        }
    }

    /// <summary>Reads a saved state for <paramref name="parameters"/>, checking every tensor's dtype and shape against its parameter's.</summary>
    public static AdamWState Load(BinaryReader reader, FlatParameters parameters)
    {
        if (reader.ReadString() is var magic && magic != Magic) throw new DtrainException($"not an AdamW state: it starts with {OneLine.Quoted(magic)}");
        if (reader.ReadInt32() is var version && version != Version) throw new DtrainException($"AdamW state version {version}; this build reads version {Version}");
        long step = reader.ReadInt64();
        if (reader.ReadInt32() is var count && count != parameters.Slots.Count)
        {
            throw new DtrainException($"the AdamW state holds {count} parameters, the optimizer has {parameters.Slots.Count}");
        }
        var moments = parameters.Slots.Select((slot, i) =>
        {
            var (expAvg, expAvgSq) = (zeros_like(slot.Parameter).DetachFromDisposeScope(), zeros_like(slot.Parameter).DetachFromDisposeScope());
            TensorFormat.ReadInto(reader, expAvg, $"parameter {i}'s exp_avg");
            TensorFormat.ReadInto(reader, expAvgSq, $"parameter {i}'s exp_avg_sq");
            return new AdamWMoments(expAvg, expAvgSq);
        }).ToArray();
        return new AdamWState(step, moments);
    }
}

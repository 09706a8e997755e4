using Dtrain.Optimizers.Flat;

namespace Dtrain.Distributed.Checkpoints;

/// <summary>
/// Flat AdamW's state in a <see cref="ReplicatedCheckpoint"/>: whole and per parameter (ZeRO-1 gathers it first), written
/// once, by shard 0, after its parameters, so that it loads onto any world size.
/// </summary>
public static class AdamWStates
{
    /// <summary>What shard <paramref name="rank"/> writes after its parameters: the state on shard 0, nothing on the others.</summary>
    public static Action<Stream>? Writer(int rank, AdamWState state) => rank != 0 ? null : stream =>
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        state.Save(writer);
    };

    /// <summary>Reads the state from shard 0 onto <paramref name="parameters"/>' layout and hands it to <paramref name="load"/>.</summary>
    public static Action<IEnumerable<Stream>> Reader(FlatParameters parameters, Action<AdamWState> load) => streams =>
    {
        using var reader = new BinaryReader(streams.First(), System.Text.Encoding.UTF8, leaveOpen: true);
        var state = AdamWState.Load(reader, parameters);
        try
        {
            load(state);
        }
        finally
        {
            Dispose(state);
        }
    };

    /// <summary>
    /// Frees a state read, gathered or taken from <see cref="FlatAdamW.State"/> for a checkpoint: the latter's tensors
    /// are views, whose handles alone are freed while the optimizer's moments keep their memory.
    /// </summary>
    public static void Dispose(AdamWState state)
    {
        foreach (var moments in state.Parameters)
        {
            moments.ExpAvg.Dispose();
            moments.ExpAvgSq.Dispose();
        }
    }
}

using Dtrain.Collectives;
using Dtrain.Collectives.Tensors;
using static TorchSharp.torch;

namespace Dtrain.Optimizers.Shampoo.Distributor;

/// <summary>
/// How every block's search direction reaches its parameter. In one process each stack's directions are added
/// to their parameters as soon as they are computed, in the parameters' dtype. With a group, each rank copies
/// its stacks' directions into its slot of one preallocated device buffer, in the communication dtype; the
/// buffer is all-gathered (<see cref="TensorCollectives"/>, so the data plane decides how the bytes move), and
/// every rank adds every rank's directions, its own included, so that all ranks apply the same rounded values.
/// </summary>
internal sealed class DirectionExchange : IDisposable
{
    private readonly Communicator? group;
    private readonly StackLayout[][] stacksByRank;
    private readonly long slotSize;
    /// <summary>This rank's slot and every rank's, made once; null in one process.</summary>
    private readonly Tensor? own, gathered;

    /// <param name="stacksByRank">Each rank's stacks, in slot order.</param>
    /// <param name="group">The ranks that share the blocks; null (or one rank) for one process.</param>
    public DirectionExchange(StackLayout[][] stacksByRank, Communicator? group, ScalarType communicationType, Device device)
    {
        this.stacksByRank = stacksByRank;
        this.group = group is { Size: > 1 } ? group : null;
        Rank = group?.Rank ?? 0;
        slotSize = stacksByRank.Max(stacks => stacks.Sum(s => s.Elements));
        if (this.group is not null && slotSize > 0)
        {
            own = zeros(slotSize, communicationType, device).DetachFromDisposeScope();
            gathered = zeros(slotSize * this.group.Size, communicationType, device).DetachFromDisposeScope();
        }
    }

    public int Rank { get; }

    /// <summary>The stacks this rank computes.</summary>
    public IReadOnlyList<StackLayout> Own => stacksByRank[Rank];

    /// <summary>Every stack of every rank.</summary>
    public IEnumerable<StackLayout> All => stacksByRank.SelectMany(stacks => stacks);

    /// <summary>The size of the all-gathered buffer, every rank's padded slot: what a step moves.</summary>
    public long AllGatherBytesPerStep => gathered is null ? 0 : gathered.numel() * gathered.ElementSize;

    /// <summary>
    /// Takes the directions of one of this rank's stacks, its <paramref name="active"/> segments (those whose
    /// parameter has a gradient) stacked in order: added to the parameters at once in one process, else copied into
    /// this rank's slot.
    /// </summary>
    public void Deliver(StackLayout stack, IReadOnlyList<int> active, Tensor directions, IReadOnlyList<Tensor> parameters)
    {
        if (own is null)
        {
            Apply(stack, active, directions, parameters);
            return;
        }
        var slot = own.narrow(0, stack.Offset, stack.Elements).view([stack.Count, .. stack.Shape]);
        if (active.Count == stack.Segments.Count)
        {
            slot.copy_(directions);
            return;
        }
        long row = 0;
        foreach (int s in active)
        {
            long count = stack.Segments[s].Count;
            slot.narrow(0, stack.SegmentRows[s], count).copy_(directions.narrow(0, row, count));
            row += count;
        }
    }

    /// <summary>With a group: all-gathers the slots, then adds every rank's directions of the parameters that have a gradient.</summary>
    public async Task ExchangeAsync(Func<int, bool> hasGradient, IReadOnlyList<Tensor> parameters, CancellationToken ct)
    {
        if (own is null || gathered is null) return;
        await group!.AllGatherAsync(own, gathered, ct: ct);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (int rank = 0; rank < stacksByRank.Length; rank++)
        {
            foreach (var stack in stacksByRank[rank])
            {
                var active = Enumerable.Range(0, stack.Segments.Count).Where(s => hasGradient(stack.Segments[s].Parameter)).ToArray();
                if (active.Length == 0) continue;
                var slot = gathered.narrow(0, rank * slotSize + stack.Offset, stack.Elements).view([stack.Count, .. stack.Shape]);
                foreach (int s in active)
                {
                    var segment = stack.Segments[s];
                    var parameter = parameters[segment.Parameter];
                    segment.AddTo(parameter, slot.narrow(0, stack.SegmentRows[s], segment.Count).to(parameter.dtype));
                }
            }
        }
    }

    private static void Apply(StackLayout stack, IReadOnlyList<int> active, Tensor directions, IReadOnlyList<Tensor> parameters)
    {
        long row = 0;
        foreach (int s in active)
        {
            var segment = stack.Segments[s];
            segment.AddTo(parameters[segment.Parameter], directions.narrow(0, row, segment.Count));
            row += segment.Count;
        }
    }

    public void Dispose()
    {
        own?.Dispose();
        gathered?.Dispose();
        foreach (var stack in All) stack.Dispose();
    }
}

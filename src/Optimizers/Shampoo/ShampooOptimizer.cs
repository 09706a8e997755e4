using Dtrain.Contracts.Jobs;
using Dtrain.Collectives;
using Dtrain.Contracts;
using Dtrain.Contracts.Placement;
using Dtrain.Optimizers.Shampoo.Blocking;
using Dtrain.Optimizers.Shampoo.Distributor;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Optimizers.Shampoo;

/// <summary>
/// Distributed Shampoo: every parameter is cut into blocks (<see cref="BlockShapes"/>), each preconditioned by
/// the inverse roots of its Kronecker factors, with its step size grafted from a diagonal optimizer. The
/// algorithm, option names and defaults follow the reference implementation (../shared/reference/shampoo.md).
/// With a group of ranks, each rank keeps state for and computes only the blocks assigned to it
/// (<see cref="BlockAssignment"/>), and the search directions are all-gathered so that every rank applies all
/// of them: the parameters stay identical on every rank, and equal to single-process Shampoo bitwise. The
/// gradients must already be identical on every rank (averaged by data parallelism).
/// </summary>
public sealed class ShampooOptimizer : IDisposable
{
    private readonly IReadOnlyList<ParameterBlocks> parameters;
    private readonly ShampooOptions options;
    private readonly Communicator? group;
    private readonly int[] slotOffsets;
    private readonly int slotSize;
    private readonly ScalarType communicationType;
    private readonly int elementBytes;
    /// <summary>This rank's slot and every rank's, allocated once: fresh memory every step is slow and feeds the GC.</summary>
    private readonly byte[] ownDirections, allDirections;

    /// <param name="parameters">The parameters, with the names errors use.</param>
    /// <param name="options">The settings.</param>
    /// <param name="group">The ranks that share the preconditioner work (num_trainers_per_group); null for one process.</param>
    /// <param name="owners">The rank of <paramref name="group"/> that owns each block, as a shard map placed them; null places them here (<see cref="BlockAssignment"/>).</param>
    public ShampooOptimizer(IEnumerable<(string Name, Parameter Parameter)> parameters, ShampooOptions options, Communicator? group = null, int[]? owners = null)
    {
        var problems = options.Problems().ToList();
        if (problems.Count > 0) throw new ArgumentException($"invalid Shampoo options: {string.Join("; ", problems)}");
        this.options = options;
        this.group = group;
        LearningRate = options.LearningRate;
        (communicationType, elementBytes) = ElementType(options);
        var all = Layout(parameters, options);
        var sizes = Sizes(all);
        int rank = group?.Rank ?? 0, ranks = group?.Size ?? 1;
        owners ??= LongestProcessingTime.Assign(Costs(sizes, elementBytes), ranks);
        if (owners.Length != sizes.Length || owners.Any(owner => owner < 0 || owner >= ranks))
        {
            throw new ArgumentException($"the block owners name {owners.Length} blocks on ranks 0..{owners.DefaultIfEmpty().Max()}; this optimizer has {sizes.Length} blocks on {ranks} ranks");
        }

        // Each rank's directions go in its slot of one flat buffer, blocks in global order; slots are padded to the largest.
        slotOffsets = new int[sizes.Length];
        var filled = new int[ranks];
        for (int b = 0; b < sizes.Length; b++)
        {
            slotOffsets[b] = filled[owners[b]];
            filled[owners[b]] += checked((int)sizes[b]);
        }
        slotSize = filled.Max();
        ownDirections = new byte[slotSize * elementBytes];
        allDirections = group is null ? ownDirections : new byte[ownDirections.Length * group.Size];

        int next = 0;
        this.parameters = all.Select(p => new ParameterBlocks(p.Named.Name, p.Named.Parameter, p.Merged, p.Ranges.Select(range =>
        {
            int index = next++;
            var shape = range.Select(d => d.Length).ToArray();
            var state = owners[index] == rank ? new ShampooBlock($"{p.Named.Name} block {index}", shape, p.Named.Parameter, options) : null;
            return new Block(index, owners[index], range, state);
        }).ToArray())).ToArray();
    }

    private static (ScalarType Type, int Bytes) ElementType(ShampooOptions options) =>
        options.CommunicationDtype == Precision.Bf16 ? (ScalarType.BFloat16, 2) : (ScalarType.Float32, sizeof(float));

    /// <summary>Each parameter, its shape merged, and the ranges of its blocks.</summary>
    private static ParameterLayout[] Layout(IEnumerable<(string Name, Parameter Parameter)> parameters, ShampooOptions options) =>
        parameters.Select(named => (named, merged: BlockShapes.Merge(named.Parameter.shape, options.MaxPreconditionerDim)))
            .Select(p => new ParameterLayout(p.named, p.merged, BlockShapes.Split(p.merged, options.MaxPreconditionerDim)))
            .ToArray();

    private sealed record ParameterLayout((string Name, Parameter Parameter) Named, long[] Merged, IReadOnlyList<(long Start, long Length)[]> Ranges);

    /// <summary>Each block's element count, in block order.</summary>
    private static long[] Sizes(ParameterLayout[] all) => all.SelectMany(p => p.Ranges.Select(r => r.Aggregate(1L, (n, d) => n * d.Length))).ToArray();

    private static long[] Costs(IEnumerable<long> sizes, int elementBytes) => sizes.Select(n => BlockAssignment.Cost(n, elementBytes)).ToArray();

    /// <summary>What each block costs its owner, in block order: the input of a placement (<see cref="BlockAssignment"/>, or a shard map).</summary>
    public static long[] BlockCosts(IEnumerable<(string Name, Parameter Parameter)> parameters, ShampooOptions options) =>
        Costs(Sizes(Layout(parameters, options)), ElementType(options).Bytes);

    /// <summary>
    /// Splits <paramref name="world"/> into groups of <see cref="ShampooOptions.NumTrainersPerGroup"/> consecutive
    /// ranks, as the reference does, and shares the blocks within this rank's group. Every rank must call it.
    /// </summary>
    /// <param name="place">Places the blocks on a group's ranks (the coordinator's shard map); null places them here.</param>
    public static async Task<ShampooOptimizer> CreateAsync(
        IEnumerable<(string Name, Parameter Parameter)> parameters, ShampooOptions options, Communicator world, CancellationToken ct = default,
        BlockPlacement? place = null)
    {
        int perGroup = options.NumTrainersPerGroup ?? world.Size;
        if (perGroup < 1 || world.Size % perGroup != 0)
        {
            throw new DtrainException($"num_trainers_per_group {perGroup} does not divide the world size {world.Size}");
        }
        var group = perGroup == world.Size ? world : await world.SplitAsync(world.Rank / perGroup, world.Rank, ct);
        var named = parameters.ToArray();
        return new ShampooOptimizer(named, options, group, place is null ? null : await place(BlockCosts(named, options), group?.Size ?? 1, ct));
    }

    public long StepCount { get; private set; }

    /// <summary>The lr of the next step; a schedule sets it. It starts at <see cref="ShampooOptions.LearningRate"/>.</summary>
    public double LearningRate { get; set; }

    /// <summary>The size of the all-gathered direction buffer, every rank's padded slot: what a step moves.</summary>
    public long AllGatherBytesPerStep => group is null ? 0 : (long)slotSize * group.Size * elementBytes;

    /// <summary>One step in a single process (no group).</summary>
    public void Step()
    {
        if (group is not null) throw new InvalidOperationException("a distributed Shampoo steps with StepAsync");
        StepAsync().GetAwaiter().GetResult();
    }

    public async Task StepAsync(CancellationToken ct = default)
    {
        StepCount++;
        // The directions travel as raw bytes of the communication dtype; a single process rounds them the same way.
        ComputeOwnDirections(ownDirections);
        if (group is not null) await group.AllGatherAsync<byte>(ownDirections, allDirections, ct);
        ApplyAll(allDirections);
    }

    private void ComputeOwnDirections(byte[] slot)
    {
        using var noGrad = no_grad();
        using var s = new HeldScalars();
        foreach (var p in parameters)
        {
            using var scope = NewDisposeScope();
            if (p.Parameter.grad is not { } gradient) continue;
            if (!isfinite(gradient).all().item<bool>())
            {
                throw new DtrainException($"the gradient of {p.Name} contains NaN or Inf at step {StepCount}");
            }
            if (options.WeightDecayType == WeightDecayType.L2 && options.WeightDecay != 0)
            {
                gradient = gradient.add(p.Parameter, s.Of(options.WeightDecay));
            }
            var gradients = gradient.reshape(p.Merged);
            var weights = p.Parameter.view(p.Merged);
            foreach (var block in p.Blocks.Where(b => b.State is not null))
            {
                var direction = block.State!.SearchDirection(Narrow(gradients, block.Range).contiguous(), Narrow(weights, block.Range), StepCount, LearningRate);
                direction.to(communicationType).cpu().contiguous().bytes.CopyTo(slot.AsSpan(slotOffsets[block.Index] * elementBytes));
            }
        }
    }

    private void ApplyAll(byte[] all)
    {
        using var noGrad = no_grad();
        using var s = new HeldScalars();
        foreach (var p in parameters)
        {
            using var scope = NewDisposeScope();
            if (p.Parameter.grad is null) continue;
            var weights = p.Parameter.view(p.Merged);
            foreach (var block in p.Blocks)
            {
                var target = Narrow(weights, block.Range);
                int start = (block.Owner * slotSize + slotOffsets[block.Index]) * elementBytes;
                var direction = empty(target.shape, communicationType);
                all.AsSpan(start, (int)target.numel() * elementBytes).CopyTo(direction.bytes);
                target.add_(direction.to(target.dtype, target.device), s.One);
            }
        }
    }

    /// <summary>Writes this rank's state: the step count and the state of every block it owns.</summary>
    public void SaveState(Stream stream)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(StateFormat.Magic);
        writer.Write(StateFormat.Version);
        writer.Write(StepCount);
        var owned = parameters.SelectMany(p => p.Blocks).Where(b => b.State is not null).ToArray();
        writer.Write(owned.Length);
        foreach (var block in owned)
        {
            writer.Write(block.Index);
            block.State!.Save(writer);
        }
    }

    /// <summary>
    /// Loads the blocks this rank owns from the states saved by every rank of a job, whatever its world size
    /// then: blocks are found by their global index.
    /// </summary>
    public void LoadState(IEnumerable<Stream> shards)
    {
        var owned = parameters.SelectMany(p => p.Blocks).Where(b => b.State is not null).ToDictionary(b => b.Index);
        var loaded = new HashSet<int>();
        long? step = null;
        foreach (var shard in shards)
        {
            using var reader = new BinaryReader(shard, System.Text.Encoding.UTF8, leaveOpen: true);
            if (reader.ReadString() != StateFormat.Magic || reader.ReadInt32() is var version && version != StateFormat.Version)
            {
                throw new DtrainException($"not a Shampoo state of format version {StateFormat.Version}");
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
                if (owned.TryGetValue(index, out var block))
                {
                    block.State!.Load(reader);
                    loaded.Add(index);
                }
                else
                {
                    // Another rank's block: read it into a scratch block of the same shape to skip it.
                    using var scratch = ScratchBlock(index);
                    scratch.Load(reader);
                }
            }
        }
        StepCount = step ?? throw new DtrainException("no state shards were given");
        var missing = owned.Keys.Except(loaded).Order().ToArray();
        if (missing.Length > 0)
        {
            throw new DtrainException($"the state shards hold no state for block(s) {string.Join(", ", missing)}");
        }
    }

    private ShampooBlock ScratchBlock(int index)
    {
        var (parameter, block) = parameters.SelectMany(p => p.Blocks.Select(b => (p, b))).Single(x => x.b.Index == index);
        return new ShampooBlock($"{parameter.Name} block {index}", block.Range.Select(d => d.Length).ToArray(), parameter.Parameter, options);
    }

    private static Tensor Narrow(Tensor tensor, (long Start, long Length)[] range)
    {
        for (int d = 0; d < range.Length; d++) tensor = tensor.narrow(d, range[d].Start, range[d].Length);
        return tensor;
    }

    public void Dispose()
    {
        foreach (var block in parameters.SelectMany(p => p.Blocks)) block.State?.Dispose();
    }

    private sealed record ParameterBlocks(string Name, Parameter Parameter, long[] Merged, Block[] Blocks);

    /// <param name="Index">The block's number over all parameters.</param>
    /// <param name="Owner">The rank that computes it.</param>
    /// <param name="Range">Where it lies in the parameter's merged shape.</param>
    /// <param name="State">Its optimizer state, on its owner only.</param>
    private sealed record Block(int Index, int Owner, (long Start, long Length)[] Range, ShampooBlock? State);
}

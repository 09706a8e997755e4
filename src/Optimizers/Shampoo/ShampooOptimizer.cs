using Dtrain.Collectives;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
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
/// With a group of ranks, each rank keeps state for and computes only the blocks placed on it
/// (<see cref="IShardPlacement"/>), and the search directions are all-gathered (<see cref="DirectionExchange"/>)
/// so that every rank applies all of them: the parameters stay identical on every rank. The gradients must
/// already be identical on every rank (averaged by data parallelism).
/// A rank's blocks of equal shape step together as one <see cref="BlockStack"/>; nothing is read back to the
/// host between root computations.
/// </summary>
public sealed class ShampooOptimizer : IDisposable
{
    private readonly (string Name, Parameter Parameter)[] parameters;
    private readonly ShampooOptions options;
    private readonly OptionScalars constants;
    private readonly Block[] blocks;
    private readonly DirectionExchange exchange;
    /// <summary>The state of this rank's stacks, one per <see cref="DirectionExchange.Own"/> stack.</summary>
    private readonly BlockStack[] stacks;

    /// <param name="parameters">The parameters, with the names errors use.</param>
    /// <param name="options">The settings.</param>
    /// <param name="group">The ranks that share the preconditioner work (num_trainers_per_group); null for one process. Its blocks are placed by <see cref="LocalShardPlacement"/>.</param>
    public ShampooOptimizer(IEnumerable<(string Name, Parameter Parameter)> parameters, ShampooOptions options, Communicator? group = null)
        : this(parameters.ToArray(), options, group, owners: null)
    {
    }

    private ShampooOptimizer((string Name, Parameter Parameter)[] parameters, ShampooOptions options, Communicator? group, int[]? owners)
    {
        var problems = options.Problems().ToList();
        if (problems.Count > 0) throw new ArgumentException($"invalid Shampoo options: {string.Join("; ", problems)}");
        this.parameters = parameters;
        this.options = options;
        LearningRate = options.LearningRate;
        var merged = Merged(parameters, options);
        blocks = Blocks(merged, options);
        int ranks = group?.Size ?? 1;
        owners ??= LocalShardPlacement.Instance.Place(new ShardedWork(ShardKind.ShampooBlocks, Costs(blocks, options), ranks));
        if (owners.Length != blocks.Length || owners.Any(owner => owner < 0 || owner >= ranks))
        {
            throw new ArgumentException($"the block owners name {owners.Length} blocks on ranks 0..{owners.DefaultIfEmpty().Max()}; this optimizer has {blocks.Length} blocks on {ranks} ranks");
        }
        var device = parameters.Length > 0 ? parameters[0].Parameter.device : CPU;
        var stacksByRank = Enumerable.Range(0, ranks)
            .Select(rank => StackLayout.Of(blocks.Where(b => owners[b.Index] == rank), merged, options.MaxPreconditionerDim, device))
            .ToArray();
        exchange = new DirectionExchange(stacksByRank, group, CommunicationType(options).Type, device);
        constants = new OptionScalars(options);
        stacks = exchange.Own.Select(stack => new BlockStack(
            stack.Blocks.Select(b => new BlockName(parameters[b.Parameter].Name, b.Index)).ToArray(),
            stack.Shape, parameters[stack.Segments[0].Parameter].Parameter, options, constants)).ToArray();
    }

    private static (ScalarType Type, int Bytes) CommunicationType(ShampooOptions options) => options.CommunicationDtype switch
    {
        Precision.Bf16 => (ScalarType.BFloat16, 2),
        Precision.Fp64 => (ScalarType.Float64, sizeof(double)),
        _ => (ScalarType.Float32, sizeof(float)),
    };

    /// <summary>Each parameter's shape, size-1 dims dropped and dims merged.</summary>
    private static long[][] Merged(IEnumerable<(string Name, Parameter Parameter)> parameters, ShampooOptions options) =>
        parameters.Select(p => BlockShapes.Merge(p.Parameter.shape, options.MaxPreconditionerDim)).ToArray();

    /// <summary>Every parameter's blocks, numbered over all parameters in order.</summary>
    private static Block[] Blocks(long[][] merged, ShampooOptions options) =>
        merged.SelectMany((shape, parameter) => BlockShapes.Split(shape, options.MaxPreconditionerDim).Select(range => (parameter, range)))
            .Select((block, index) => new Block(index, block.parameter, block.range))
            .ToArray();

    private static long[] Costs(IEnumerable<Block> blocks, ShampooOptions options) =>
        blocks.Select(b => BlockAssignment.Cost(b.Elements, CommunicationType(options).Bytes)).ToArray();

    /// <summary>
    /// Splits <paramref name="world"/> into groups of <see cref="ShampooOptions.NumTrainersPerGroup"/> consecutive
    /// ranks, as the reference does, and shares the blocks within this rank's group. Every rank must call it.
    /// </summary>
    /// <param name="placement">Places the blocks on a group's ranks (in a job, the coordinator's shard map); null places them here (<see cref="LocalShardPlacement"/>).</param>
    public static async Task<ShampooOptimizer> CreateAsync(
        IEnumerable<(string Name, Parameter Parameter)> parameters, ShampooOptions options, Communicator world, CancellationToken ct = default,
        IShardPlacement? placement = null)
    {
        int perGroup = options.NumTrainersPerGroup ?? world.Size;
        if (perGroup < 1 || world.Size % perGroup != 0)
        {
            throw new DtrainException($"num_trainers_per_group {perGroup} does not divide the world size {world.Size}");
        }
        var group = perGroup == world.Size ? world : await world.SplitAsync(world.Rank / perGroup, world.Rank, ct);
        var named = parameters.ToArray();
        var costs = Costs(Blocks(Merged(named, options), options), options);
        var owners = await (placement ?? LocalShardPlacement.Instance).PlaceAsync(new ShardedWork(ShardKind.ShampooBlocks, costs, group?.Size ?? 1), ct);
        return new ShampooOptimizer(named, options, group, owners);
    }

    public long StepCount { get; private set; }

    /// <summary>The lr of the next step; a schedule sets it. It starts at <see cref="ShampooOptions.LearningRate"/>.</summary>
    public double LearningRate { get; set; }

    /// <summary>The size of the all-gathered direction buffer, every rank's padded slot: what a step moves.</summary>
    public long AllGatherBytesPerStep => exchange.AllGatherBytesPerStep;

    /// <summary>One step in a single process (no group).</summary>
    public void Step() => StepAsync().GetAwaiter().GetResult();

    public async Task StepAsync(CancellationToken ct = default)
    {
        StepCount++;
        ComputeOwnDirections();
        await exchange.ExchangeAsync(p => HasGradient(parameters[p].Parameter), parameters.Select(p => (Tensor)p.Parameter).ToArray(), ct);
    }

    private static bool HasGradient(Parameter parameter)
    {
        using var gradient = parameter.grad;
        return gradient is not null;
    }

    /// <summary>Each of this rank's stacks: its gradients gathered by one strided index per parameter, its directions handed to the exchange.</summary>
    private void ComputeOwnDirections()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var step = new StepScalars(StepCount, LearningRate, options);
        var gradients = parameters.Select(p => p.Parameter.grad).ToArray();
        var values = parameters.Select(p => (Tensor)p.Parameter).ToArray();
        for (int i = 0; i < stacks.Length; i++)
        {
            var layout = exchange.Own[i];
            var active = Enumerable.Range(0, layout.Segments.Count).Where(s => gradients[layout.Segments[s].Parameter] is not null).ToArray();
            if (active.Length == 0) continue;
            var stacked = Gather(layout, active, gradients!);
            var weights = constants.L2WeightDecay is not null || step.DirectionDecay is not null ? Gather(layout, active, values) : null;
            if (constants.L2WeightDecay is { } decay) stacked = stacked.add(weights!, decay);
            int[]? rows = active.Length == layout.Segments.Count ? null
                : active.SelectMany(s => Enumerable.Range(layout.SegmentRows[s], layout.Segments[s].Count)).ToArray();
            exchange.Deliver(layout, active, stacks[i].SearchDirections(stacked, weights, step, rows), values);
        }
    }

    /// <summary>The active segments' blocks of each parameter's tensor, stacked in the stack's order.</summary>
    private static Tensor Gather(StackLayout layout, int[] active, IReadOnlyList<Tensor> tensors)
    {
        var parts = active.Select(s => layout.Segments[s].Gather(tensors[layout.Segments[s].Parameter])).ToArray();
        return parts.Length == 1 ? parts[0] : cat(parts, 0);
    }

    /// <summary>This rank's blocks and where their state lies, in block order.</summary>
    private IEnumerable<OwnedBlock> Owned() =>
        stacks.SelectMany((stack, i) => exchange.Own[i].Blocks.Select((block, row) => new OwnedBlock(block.Index, stack, row)))
            .OrderBy(block => block.Index);

    /// <summary>Writes this rank's state: the step count and the state of every block it owns.</summary>
    public void SaveState(Stream stream) => ShampooStateCodec.Save(stream, StepCount, Owned().ToArray());

    /// <summary>
    /// Loads the blocks this rank owns from the states saved by every rank of a job, whatever its world size
    /// then: blocks are found by their global index.
    /// </summary>
    public void LoadState(IEnumerable<Stream> shards) =>
        StepCount = ShampooStateCodec.Load(shards, Owned().ToDictionary(b => b.Index), index => BlockStack.StateTensorCount(blocks[index].Shape, options));

    public void Dispose()
    {
        foreach (var stack in stacks) stack.Dispose();
        exchange.Dispose();
        constants.Dispose();
    }
}

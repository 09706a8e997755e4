using Dtrain.TensorParallel.Grid;
using Dtrain.TensorParallel.Matmul;
using Dtrain.Tests.Collectives;
using static Dtrain.Tests.TensorParallel.Matrices;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Tests.TensorParallel;

/// <summary>The three algorithms against a single-process matmul, on random non-square matrices.</summary>
public class MatmulTests
{
    public delegate Task<MatmulResult> Multiply(ProcessGrid grid, BlockMatrix a, BlockMatrix b);

    private static Multiply Algorithm(string name) => name switch
    {
        CannonMatmul.Algorithm => (grid, a, b) => CannonMatmul.MultiplyAsync(grid, a, b),
        SummaMatmul.Algorithm => (grid, a, b) => SummaMatmul.MultiplyAsync(grid, a, b),
        AllGatherMatmul.Algorithm => (grid, a, b) => AllGatherMatmul.MultiplyAsync(grid, a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    public static TheoryData<string, int, int, long, long, long> Cases()
    {
        var squareGrids = new (int, int, long, long, long)[]
        {
            (1, 1, 5, 7, 3),
            (2, 2, 8, 6, 4),     // divisible
            (2, 2, 7, 5, 9),
            (3, 3, 9, 12, 6),    // divisible
            (3, 3, 10, 7, 8),
            (3, 3, 4, 5, 13),    // A's last grid row of blocks is empty
        };
        var otherGrids = new (int, int, long, long, long)[] { (2, 3, 7, 11, 5), (3, 2, 6, 4, 9), (1, 3, 5, 8, 7) };
        var cases = new TheoryData<string, int, int, long, long, long>();
        foreach (var (rows, cols, m, k, n) in squareGrids)
        {
            foreach (var algorithm in new[] { CannonMatmul.Algorithm, SummaMatmul.Algorithm, AllGatherMatmul.Algorithm }) cases.Add(algorithm, rows, cols, m, k, n);
        }
        foreach (var (rows, cols, m, k, n) in otherGrids)
        {
            foreach (var algorithm in new[] { SummaMatmul.Algorithm, AllGatherMatmul.Algorithm }) cases.Add(algorithm, rows, cols, m, k, n);
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Matches_a_single_process_matmul(string algorithm, int gridRows, int gridCols, long m, long k, long n)
    {
        var (a, b) = (Random(m, k, seed: 1), Random(k, n, seed: 2));
        await using var grids = await Grids.InProcessAsync(gridRows, gridCols);
        var products = await grids.RunAsync(grid => MultiplyAndGather(grid, a, b, Algorithm(algorithm)));
        AssertClose(a.matmul(b), products[0]!, algorithm);
    }

    [Fact]
    public async Task Matches_a_single_process_matmul_over_grpc()
    {
        var (a, b) = (Random(7, 10, seed: 3), Random(10, 6, seed: 4));
        await using var group = await GrpcGroup.StartAsync(4, Grids.Options);
        await using var grids = await Grids.OverAsync(group.Communicators, 2, 2);
        foreach (var algorithm in new[] { CannonMatmul.Algorithm, SummaMatmul.Algorithm, AllGatherMatmul.Algorithm })
        {
            var products = await grids.RunAsync(grid => MultiplyAndGather(grid, a, b, Algorithm(algorithm)));
            AssertClose(a.matmul(b), products[0]!, $"{algorithm} over gRPC");
        }
    }

    [Theory]
    [InlineData(InputBlocks.ReadOnly, 9, 6, 12)]
    [InlineData(InputBlocks.ShiftedAndRestored, 9, 6, 12)]
    [InlineData(InputBlocks.ShiftedAndRestored, 7, 5, 8)]
    [InlineData(InputBlocks.Consumed, 9, 6, 12)]
    public async Task Cannon_leaves_the_callers_blocks_as_its_input_mode_says(InputBlocks inputs, long m, long k, long n)
    {
        var (a, b) = (Random(m, k, seed: 5), Random(k, n, seed: 6));
        await using var grids = await Grids.InProcessAsync(3, 3);
        var products = await grids.RunAsync(async grid =>
        {
            var (aBlocks, bBlocks) = (await grid.ScatterAsync(grid.Rank == 0 ? a : null), await grid.ScatterAsync(grid.Rank == 0 ? b : null));
            var product = (await CannonMatmul.MultiplyAsync(grid, aBlocks, bBlocks, inputs)).Product;
            if (inputs != InputBlocks.Consumed)
            {
                AssertBitwise(grid.Layout(m, k).Slice(a, grid.Row, grid.Col), aBlocks.Block, $"rank {grid.Rank}'s block of A");
                AssertBitwise(grid.Layout(k, n).Slice(b, grid.Row, grid.Col), bBlocks.Block, $"rank {grid.Rank}'s block of B");
            }
            return await grid.GatherAsync(product);
        });
        AssertClose(a.matmul(b), products[0]!, $"Cannon, {inputs}");
    }

    /// <summary>Blocks scattered onto CUDA: the shifts stage them through host memory, the local products run on the GPU.</summary>
    [CudaFact]
    public async Task Cannon_on_cuda_blocks_matches_torch_matmul()
    {
        var (a, b) = (Random(96, 64, seed: 7), Random(64, 80, seed: 8));
        await using var grids = await Grids.InProcessAsync(2, 2);
        var products = await grids.RunAsync(async grid =>
        {
            var aBlocks = await grid.ScatterAsync(grid.Rank == 0 ? a : null, device: CUDA);
            var bBlocks = await grid.ScatterAsync(grid.Rank == 0 ? b : null, device: CUDA);
            var product = (await CannonMatmul.MultiplyAsync(grid, aBlocks, bBlocks)).Product;
            Assert.Equal(DeviceType.CUDA, product.Block.device_type);
            return await grid.GatherAsync(product);
        });
        AssertClose(a.cuda().matmul(b.cuda()).cpu(), products[0]!.cpu(), "Cannon on CUDA");
    }

    private static async Task<Tensor?> MultiplyAndGather(ProcessGrid grid, Tensor a, Tensor b, Multiply multiply)
    {
        var aBlocks = await grid.ScatterAsync(grid.Rank == 0 ? a : null);
        var bBlocks = await grid.ScatterAsync(grid.Rank == 0 ? b : null);
        var result = await multiply(grid, aBlocks, bBlocks);
        Assert.Equal(grid.Layout(a.shape[0], b.shape[1]).BlockShape(grid.Row, grid.Col), result.Product.Block.shape);
        return await grid.GatherAsync(result.Product);
    }
}

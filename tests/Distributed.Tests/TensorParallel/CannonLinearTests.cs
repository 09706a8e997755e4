using Dtrain.Collectives;
using Dtrain.Optimizers;
using Dtrain.Tests.Collectives;
using Dtrain.TensorParallel.Grid;
using Dtrain.TensorParallel.Layers;
using static Dtrain.Tests.TensorParallel.Matrices;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Tests.TensorParallel;

public class CannonLinearTests
{
    [Theory]
    [InlineData(1, 3, 4, 2)]
    [InlineData(2, 8, 6, 4)]   // divisible
    [InlineData(3, 7, 5, 8)]   // not
    public async Task Output_and_gradients_match_autograd_on_the_full_matrices(int q, long batch, long inFeatures, long outFeatures)
    {
        var (x, w, upstream) = (Random(batch, inFeatures, seed: 31), Random(inFeatures, outFeatures, seed: 32), Random(batch, outFeatures, seed: 33));
        var (xFull, wFull) = (x.clone().requires_grad_(), w.clone().requires_grad_());
        (xFull.matmul(wFull) * upstream).sum().backward();

        await using var grids = await Grids.InProcessAsync(q, q);
        var gathered = await grids.RunAsync(async grid =>
        {
            var input = BlockOf(grid, x).requires_grad_();
            using var layer = new CannonLinear(grid, new BlockMatrix(BlockOf(grid, w), inFeatures, outFeatures));
            var output = layer.forward(new BlockMatrix(input, batch, inFeatures));
            (output.Block * BlockOf(grid, upstream)).sum().backward();
            return (
                Y: await grid.GatherAsync(output with { Block = output.Block.detach() }),
                DX: await grid.GatherAsync(new BlockMatrix(input.grad!, batch, inFeatures)),
                DW: await grid.GatherAsync(new BlockMatrix(layer.Weight.grad!, inFeatures, outFeatures)));
        });
        AssertClose(x.matmul(w), gathered[0].Y!, "Y");
        AssertClose(xFull.grad!, gathered[0].DX!, "dX");
        AssertClose(wFull.grad!, gathered[0].DW!, "dW");
    }

    /// <summary>sum() hands backward a broadcast gradient (stride 0), which Cannon must copy rather than shift.</summary>
    [Fact]
    public async Task A_broadcast_output_gradient_gives_the_weight_gradient()
    {
        const long batch = 5, inFeatures = 7, outFeatures = 4;
        var (x, w) = (Random(batch, inFeatures, seed: 34), Random(inFeatures, outFeatures, seed: 35));
        var wFull = w.clone().requires_grad_();
        x.matmul(wFull).sum().backward();

        await using var grids = await Grids.InProcessAsync(2, 2);
        var gathered = await grids.RunAsync(async grid =>
        {
            using var layer = new CannonLinear(grid, new BlockMatrix(BlockOf(grid, w), inFeatures, outFeatures));
            layer.forward(new BlockMatrix(BlockOf(grid, x), batch, inFeatures)).Block.sum().backward();
            return await grid.GatherAsync(new BlockMatrix(layer.Weight.grad!, inFeatures, outFeatures));
        });
        AssertClose(wFull.grad!, gathered[0]!, "dW");
    }

    [Fact]
    public async Task Two_layers_train_with_sgd_on_each_ranks_blocks_like_the_single_process_model()
    {
        const int q = 2, steps = 3;
        const long batch = 7, inFeatures = 5, hidden = 6, outFeatures = 3;
        const double lr = 0.1;
        var (x, target) = (Random(batch, inFeatures, seed: 41), Random(batch, outFeatures, seed: 42));
        var (w1, w2) = (Random(inFeatures, hidden, seed: 43), Random(hidden, outFeatures, seed: 44));

        var (p1, p2) = (new Parameter(w1.clone()), new Parameter(w2.clone()));
        var sgd = optim.SGD([p1, p2], lr);
        using var s = new HeldScalars();
        var (two, elements) = (s.Of(2), s.Of(batch * outFeatures));
        var losses = new float[steps];
        for (int step = 0; step < steps; step++)
        {
            sgd.zero_grad();
            var loss = (x.matmul(p1).tanh().matmul(p2) - target).pow(two).sum() / elements;
            loss.backward();
            TorchOracle.Step(sgd);
            losses[step] = loss.item<float>();
        }

        await using var grids = await Grids.InProcessAsync(q, q);
        var ranks = await grids.RunAsync(async grid =>
        {
            using var first = new CannonLinear(grid, new BlockMatrix(BlockOf(grid, w1), inFeatures, hidden));
            using var second = new CannonLinear(grid, new BlockMatrix(BlockOf(grid, w2), hidden, outFeatures));
            var optimizer = optim.SGD(first.parameters().Concat(second.parameters()), lr);
            var (input, targetBlock) = (new BlockMatrix(BlockOf(grid, x), batch, inFeatures), BlockOf(grid, target));
            var rankLosses = new float[steps];
            for (int step = 0; step < steps; step++)
            {
                optimizer.zero_grad();
                var h = first.forward(input);
                var y = second.forward(h with { Block = h.Block.tanh() });
                // This rank's share of the loss; the shares sum to the full loss.
                var loss = (y.Block - targetBlock).pow(two).sum() / elements;
                loss.backward();
                TorchOracle.Step(optimizer);
                rankLosses[step] = loss.item<float>();
            }
            return (
                Losses: rankLosses,
                W1: await grid.GatherAsync(new BlockMatrix(first.Weight.detach(), inFeatures, hidden)),
                W2: await grid.GatherAsync(new BlockMatrix(second.Weight.detach(), hidden, outFeatures)));
        });
        for (int step = 0; step < steps; step++)
        {
            float distributed = ranks.Sum(r => r.Losses[step]);
            Assert.True(Math.Abs(distributed - losses[step]) <= 1e-5 * losses[step], $"step {step}: loss {distributed}, single process {losses[step]}");
        }
        AssertClose(p1, ranks[0].W1!, "W1 after training");
        AssertClose(p2, ranks[0].W2!, "W2 after training");
        Assert.True(RelativeError(w1, ranks[0].W1!) > 1e-3, "the weights did not move");
    }

    /// <summary>
    /// Rank 3 dies after forward, while the others run backward. Its row and column neighbours (ranks 1 and 2) wait
    /// for its blocks inside backward, in the autograd engine: each gets the lost connection from ThrowIfFailed once
    /// backward() has returned, and goes down in turn (aborts its transport), as a worker would. Rank 0 needs only
    /// their blocks, so it either finishes or loses them too. The test host lives on.
    /// </summary>
    [Fact]
    public async Task A_peer_lost_inside_backward_is_thrown_on_the_survivors_after_backward_returns()
    {
        const long batch = 4, inFeatures = 6, outFeatures = 4;
        var (x, w) = (Random(batch, inFeatures, seed: 51), Random(inFeatures, outFeatures, seed: 52));
        await using var group = await GrpcGroup.StartAsync(4, new CommunicatorOptions { Timeout = TimeSpan.FromSeconds(30) });
        await using var grids = await Grids.OverAsync(group.Communicators, 2, 2);
        var outcomes = await grids.RunAsync(grid =>
        {
            using var layer = new CannonLinear(grid, new BlockMatrix(BlockOf(grid, w), inFeatures, outFeatures));
            var output = layer.forward(new BlockMatrix(BlockOf(grid, x), batch, inFeatures));
            if (grid.Rank == 3)
            {
                group.Transports[3].Abort();
                return Task.FromResult<Exception?>(null);
            }
            output.Block.sum().backward();
            var failure = Record.Exception(grid.BackwardFailure.ThrowIfFailed);
            if (failure is not null) group.Transports[grid.Rank].Abort();
            return Task.FromResult(failure);
        });
        Assert.All(outcomes[1..3], failure => Assert.IsType<PeerLostException>(failure));
        Assert.True(outcomes[0] is null or CollectiveException, $"rank 0: {outcomes[0]}");
    }
}

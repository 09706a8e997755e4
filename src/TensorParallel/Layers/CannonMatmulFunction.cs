using Dtrain.TensorParallel.Grid;
using Dtrain.TensorParallel.Matmul;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Dtrain.TensorParallel.Layers;

/// <summary>
/// Y = X W for block matrices on a square grid, as a TorchSharp autograd function. Forward is Cannon's
/// algorithm; backward computes dX = dY Wᵀ and dW = Xᵀ dY with Cannon too. Cannon wants both operands in the
/// grid's block layout, and block (i, j) of Wᵀ is block (j, i) of W transposed, held by rank (j, i): so the
/// transposed ranks first swap their blocks of W (and of X), one message each way (<see cref="GridTranspose"/>).
/// TorchSharp calls forward and backward synchronously: both wait on the calling thread for the distributed work.
/// Backward runs inside libtorch's autograd engine, which a .NET exception cannot cross: what fails there is kept in
/// the grid's <see cref="ProcessGrid.BackwardFailure"/> and backward returns no gradients.
/// </summary>
internal sealed class CannonMatmulFunction : SingleTensorFunction<CannonMatmulFunction>
{
    public override string Name => nameof(CannonMatmulFunction);

    /// <summary>The grid and full shapes: X is <paramref name="Batch"/> x <paramref name="In"/>, W <paramref name="In"/> x <paramref name="Out"/>.</summary>
    public sealed record Shapes(ProcessGrid Grid, long Batch, long In, long Out);

    /// <summary>What backward needs besides the saved blocks.</summary>
    private sealed record Saved(Shapes Shapes, bool InputNeedsGrad, bool WeightNeedsGrad);

    /// <param name="vars">X's block, W's block and their <see cref="Shapes"/>.</param>
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var (x, w, shapes) = ((Tensor)vars[0], (Tensor)vars[1], (Shapes)vars[2]);
        ctx.save_for_backward([x, w]);
        ctx.save_data(nameof(Saved), new Saved(shapes, x.requires_grad, w.requires_grad));
        return Multiply(shapes.Grid, new(x, shapes.Batch, shapes.In), new(w, shapes.In, shapes.Out));
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
    {
        var saved = (Saved)ctx.get_data(nameof(Saved));
        var (grid, shapes) = (saved.Shapes.Grid, saved.Shapes);
        var blocks = ctx.get_saved_variables();
        var dY = new BlockMatrix(gradOutput, shapes.Batch, shapes.Out);
        Tensor? dX = null, dW = null;
        grid.BackwardFailure.Run(() =>
        {
            if (saved.InputNeedsGrad) dX = MultiplyByTranspose(grid, dY, new(blocks[1], shapes.In, shapes.Out), transposeFirst: false);
            if (saved.WeightNeedsGrad) dW = MultiplyByTranspose(grid, new(blocks[0], shapes.Batch, shapes.In), dY, transposeFirst: true);
        });
        blocks.ForEach(block => block.Dispose());
        return [dX!, dW!, null!];
    }

    /// <summary>Aᵀ B when <paramref name="transposeFirst"/>, else A Bᵀ.</summary>
    private static Tensor MultiplyByTranspose(ProcessGrid grid, BlockMatrix a, BlockMatrix b, bool transposeFirst)
    {
        var transposed = Wait(grid.TransposeAsync(transposeFirst ? a : b));
        using var block = transposed.Block;
        return transposeFirst ? Multiply(grid, transposed, b) : Multiply(grid, a, transposed);
    }

    private static Tensor Multiply(ProcessGrid grid, BlockMatrix a, BlockMatrix b) =>
        Wait(CannonMatmul.MultiplyAsync(grid, a, b)).Product.Block;

    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();
}

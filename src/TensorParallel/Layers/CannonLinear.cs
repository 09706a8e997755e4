using Dtrain.TensorParallel.Grid;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dtrain.TensorParallel.Layers;

/// <summary>
/// A linear layer without bias, Y = X W, whose weight W (in x out) is block-distributed on a square process
/// grid: each rank holds and trains only its block, and W never exists whole on one process. The input X
/// (batch x in) and the output Y (batch x out) are distributed the same way (<see cref="BlockLayout"/>).
/// Forward and backward are distributed matmuls inside a TorchSharp autograd function
/// (<see cref="CannonMatmulFunction"/>), so the layer composes with other modules: loss.backward() leaves this
/// rank's block of dW in <see cref="Weight"/>.grad, for any optimizer to step, and the input's block of dX in
/// its grad. Every rank of the grid runs forward and backward together, on threads that may block.
/// TorchSharp's autograd engine cannot carry a .NET exception back to the caller of backward(), so a collective
/// that fails inside backward (a lost peer, a timeout) is kept in the grid's <see cref="ProcessGrid.BackwardFailure"/>,
/// the rest of backward skips its distributed work, and the caller of backward() rethrows it with
/// grid.BackwardFailure.ThrowIfFailed(); a failure nobody rethrew is thrown by the next forward.
/// Bad shapes are caught in forward, before anything is sent.
/// </summary>
public sealed class CannonLinear : nn.Module<BlockMatrix, BlockMatrix>
{
    private readonly ProcessGrid grid;
    private readonly Parameter weight;

    /// <param name="weight">This rank's block of W; the layer takes the tensor over as its parameter.</param>
    public CannonLinear(ProcessGrid grid, BlockMatrix weight) : base(nameof(CannonLinear))
    {
        if (!grid.IsSquare)
        {
            throw new GridException($"CannonLinear needs a square process grid, not {grid}");
        }
        weight.CheckOn(grid, "the weight");
        this.grid = grid;
        (InFeatures, OutFeatures) = (weight.Rows, weight.Cols);
        this.weight = new Parameter(weight.Block);
        RegisterComponents();
    }

    public long InFeatures { get; }

    public long OutFeatures { get; }

    /// <summary>This rank's block of W.</summary>
    public Parameter Weight => weight;

    public override BlockMatrix forward(BlockMatrix input)
    {
        if (input.Cols != InFeatures)
        {
            throw new GridException($"CannonLinear takes {InFeatures} input features, got a {input.Rows} x {input.Cols} input");
        }
        input.CheckOn(grid, "the input");
        grid.BackwardFailure.ThrowIfFailed();
        var shapes = new CannonMatmulFunction.Shapes(grid, input.Rows, InFeatures, OutFeatures);
        return new BlockMatrix(CannonMatmulFunction.apply(input.Block, weight, shapes), input.Rows, OutFeatures);
    }
}

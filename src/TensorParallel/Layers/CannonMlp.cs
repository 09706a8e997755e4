using Dtrain.TensorParallel.Grid;
using static TorchSharp.torch;

namespace Dtrain.TensorParallel.Layers;

/// <summary>
/// Two <see cref="CannonLinear"/> layers with a ReLU between them: input x hidden, then hidden x output. Every
/// activation stays block-distributed on the grid; the ReLU acts on each rank's block alone.
/// </summary>
public sealed class CannonMlp : nn.Module<BlockMatrix, BlockMatrix>
{
    private readonly CannonLinear hidden, output;

    /// <param name="firstWeight">This rank's block of the input x hidden weight.</param>
    /// <param name="secondWeight">This rank's block of the hidden x output weight.</param>
    public CannonMlp(ProcessGrid grid, BlockMatrix firstWeight, BlockMatrix secondWeight) : base(nameof(CannonMlp))
    {
        hidden = new CannonLinear(grid, firstWeight);
        output = new CannonLinear(grid, secondWeight);
        RegisterComponents();
    }

    public override BlockMatrix forward(BlockMatrix input)
    {
        var activations = hidden.forward(input);
        return output.forward(activations with { Block = nn.functional.relu(activations.Block) });
    }
}

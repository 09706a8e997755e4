using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dtrain.Models;

/// <summary>A multi-layer perceptron: Linear + ReLU hidden layers, then a Linear head producing class logits.</summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> layers;

    public Mlp(int inputs, int hidden, int hiddenLayers, int outputs) : base(nameof(Mlp))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenLayers, 1);
        var stack = new List<(string, Module<Tensor, Tensor>)>();
        for (int i = 0; i < hiddenLayers; i++)
        {
            stack.Add(($"linear{i}", Linear(i == 0 ? inputs : hidden, hidden)));
            stack.Add(($"relu{i}", ReLU()));
        }
        stack.Add(("head", Linear(hidden, outputs)));
        layers = Sequential(stack);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => layers.forward(input);
}

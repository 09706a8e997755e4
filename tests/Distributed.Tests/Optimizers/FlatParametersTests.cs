using Dtrain.Optimizers.Flat;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Tests.Optimizers;

public class FlatParametersTests
{
    [Fact]
    public void Parameters_keep_their_values_and_become_views_of_one_padded_buffer()
    {
        using var problem = new FlatProblem();
        var before = problem.Values();
        using var flat = new FlatParameters(problem.Parameters, shards: 3);

        var group = Assert.Single(flat.Groups);
        Assert.Equal(103, group.Used);
        Assert.Equal(105, group.Length);
        Bitwise.Equal(before, problem.Values(), "parameter");
        using var one = 1.0.ToScalar();
        using (no_grad()) group.Values.add_(one, one);   // the module's own Parameter objects see the buffer
        Bitwise.Equal(before.Select(b => b.add(one, one)).ToArray(), problem.Values(), "parameter");
        Assert.Equal(0, group.Values.narrow(0, 103, 2).sub(one).abs().sum().item<float>());
    }

    [Fact]
    public void Backward_accumulates_straight_into_the_flat_gradient()
    {
        using var reference = new FlatProblem();
        reference.Backward(0);
        reference.Backward(1);
        using var problem = new FlatProblem();
        using var flat = new FlatParameters(problem.Parameters);

        problem.Backward(0);
        problem.Backward(1);

        var gradients = flat.Groups[0].Gradients;
        Bitwise.Equal(reference.Parameters.Select(p => p.grad!).ToArray(), flat.Slots.Select(s => flat.ViewOf(s, gradients)).ToArray(), "gradient");
        Bitwise.Equal(reference.Parameters.Select(p => p.grad!).ToArray(), problem.Parameters.Select(p => p.grad!).ToArray(), "gradient");
        flat.ZeroGrad();
        Assert.Equal(0, gradients.abs().sum().item<float>());
    }

    [Fact]
    public void A_gradient_replaced_by_module_zero_grad_is_copied_back_in()
    {
        using var reference = new FlatProblem();
        reference.Backward(0);
        using var problem = new FlatProblem();
        using var flat = new FlatParameters(problem.Parameters);
        foreach (var p in problem.Parameters) p.grad = null;   // what Module.zero_grad() does

        problem.Backward(0);
        flat.AttachGradients();

        var gradients = flat.Groups[0].Gradients;
        Bitwise.Equal(reference.Parameters.Select(p => p.grad!).ToArray(), flat.Slots.Select(s => flat.ViewOf(s, gradients)).ToArray(), "gradient");
        problem.Backward(0);   // the views are attached again: backward accumulates into them
        using var two = 2.0.ToScalar();
        Bitwise.Equal(reference.Parameters.Select(p => p.grad!.mul(two)).ToArray(), flat.Slots.Select(s => flat.ViewOf(s, gradients)).ToArray(), "gradient");
    }
}

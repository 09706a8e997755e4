using TorchSharp;

namespace Dtrain.Optimizers;

/// <summary>
/// TorchSharp Scalars that stay referenced until this is disposed. TorchSharp frees a Scalar in its finalizer, and
/// a Scalar converted implicitly from a number (the default alpha of add included) is unreachable as soon as its
/// handle is passed to native code. A garbage collection during that call can then free the Scalar while libtorch
/// reads it: "Expected false to be true" or "Unknown scalar type". Collections are frequent when collectives run
/// beside the optimizer, so optimizer code passes every Scalar through one of these.
/// </summary>
internal sealed class HeldScalars : IDisposable
{
    private readonly List<Scalar> held = [];
    private Scalar? one;

    public Scalar Of(double value) => Hold(value.ToScalar());

    /// <summary>An integral Scalar, as TorchSharp makes from an int or long: an integer tensor's alpha must be one.</summary>
    public Scalar Of(long value) => Hold(value.ToScalar());

    /// <summary>The alpha of a plain add, which TorchSharp would otherwise make implicitly; made once per holder.</summary>
    public Scalar One => one ??= Of(1.0);

    private Scalar Hold(Scalar scalar)
    {
        held.Add(scalar);
        return scalar;
    }

    public void Dispose()
    {
        foreach (var scalar in held) scalar.Dispose();
        held.Clear();
        one = null;
    }
}

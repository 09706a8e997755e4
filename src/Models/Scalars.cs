using TorchSharp;

namespace Dtrain.Models;

/// <summary>
/// Scalars the models pass to libtorch, held for the life of the process: an implicitly converted Scalar can
/// be finalized while native code still reads it (see Dtrain.Optimizers.HeldScalars), and sampling threads and
/// collectives beside the training make garbage collections frequent.
/// </summary>
internal static class Scalars
{
    public static readonly Scalar One = 1.0.ToScalar();

    public static readonly Scalar Zero = 0.0.ToScalar();

    public static readonly Scalar NegativeInfinity = double.NegativeInfinity.ToScalar();

    /// <summary>1 as an integer, the alpha of additions to integer tensors (libtorch refuses a floating-point one).</summary>
    public static readonly Scalar WholeOne = 1L.ToScalar();

    public static readonly Scalar WholeZero = 0L.ToScalar();
}

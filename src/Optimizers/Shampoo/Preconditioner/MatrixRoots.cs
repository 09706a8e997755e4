using System.Runtime.InteropServices;
using Dtrain.Contracts;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Optimizers.Shampoo.Preconditioner;

/// <summary>A factor matrix whose inverse root cannot be computed (NaN or Inf in it, or the method failed).</summary>
public sealed class MatrixRootException(string message, Exception? inner = null) : DtrainException(message, inner);

/// <summary>
/// Inverse p-th roots X = A^(-1/p) of symmetric positive semi-definite factor matrices, the two ways the reference
/// Shampoo computes them (see ../shared/reference/shampoo.md, section 3). Pure functions of their inputs; results
/// have the input's dtype and device.
/// </summary>
public static class MatrixRoots
{
    /// <summary>
    /// By eigendecomposition: A + εI = Q diag(λ) Qᵀ; when the smallest eigenvalue is below ε (A is not
    /// positive definite enough) the spectrum is shifted by -λ_min and ε is added again; X = Q diag(λ^(-1/p)) Qᵀ.
    /// A float32 eigendecomposition that fails, or whose eigenvalues overflow float32, is retried in float64.
    /// </summary>
    /// <param name="root">p, any positive real: an inverse exponent override e gives p = 1/e.</param>
    public static Tensor InverseRootByEigendecomposition(Tensor matrix, double root, double epsilon = 1e-12)
    {
        Validate(matrix, root);
        using var scope = NewDisposeScope();
        using var s = new HeldScalars();
        var regularized = matrix.add(eye(matrix.shape[0], dtype: matrix.dtype, device: matrix.device), s.Of(epsilon));
        var (values, vectors) = Eigh(regularized);
        var smallest = values.min().ToDouble();
        if (smallest < epsilon)
        {
            values = values.sub(s.Of(smallest)).add(s.Of(epsilon), s.One);
        }
        var scaled = vectors * values.pow(s.Of(-1.0 / root)).unsqueeze(0);
        return scaled.matmul(vectors.T).to(matrix.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// By the coupled Newton iteration for integer p: z = (p+1) / (2‖A‖_F), X₀ = z^(1/p) I, M₀ = zA; then
    /// M' = (1-a)I + aM with a = -1/p, X ← X M', M ← M'^p M, until max|M - I| ≤ <paramref name="tolerance"/>.
    /// </summary>
    public static Tensor InverseRootByCoupledNewton(Tensor matrix, int root, double tolerance = 1e-6, int maxIterations = 100)
    {
        Validate(matrix, root);
        using var scope = NewDisposeScope();
        using var s = new HeldScalars();
        var identity = eye(matrix.shape[0], dtype: matrix.dtype, device: matrix.device);
        double z = (root + 1) / (2 * linalg.matrix_norm(matrix).ToDouble());
        var x = identity * s.Of(Math.Pow(z, 1.0 / root));
        var m = matrix * s.Of(z);
        double a = -1.0 / root;
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            if ((m - identity).abs().max().ToDouble() <= tolerance)
            {
                return x.MoveToOuterDisposeScope();
            }
            var step = (identity * s.Of(1 - a)).add(m * s.Of(a), s.One);
            x = x.matmul(step);
            var power = step;
            for (int k = 1; k < root; k++) power = power.matmul(step);
            m = power.matmul(m);
        }
        throw new MatrixRootException($"the coupled Newton iteration did not reach tolerance {tolerance} in {maxIterations} iterations");
    }

    /// <summary>
    /// The eigendecomposition, in float64 when float32 fails. The roots are taken in float64 too: an eigenvalue
    /// that overflowed float32 would otherwise drop out of the inverse root.
    /// </summary>
    private static (Tensor Values, Tensor Vectors) Eigh(Tensor matrix)
    {
        if (matrix.dtype == ScalarType.Float32)
        {
            try
            {
                var (values, vectors) = linalg.eigh(matrix);
                if (isfinite(values).all().item<bool>()) return (values, vectors);
            }
            catch (ExternalException)
            {
                // LAPACK did not converge; float64 usually does.
            }
            return linalg.eigh(matrix.to(ScalarType.Float64));
        }
        return linalg.eigh(matrix);
    }

    private static void Validate(Tensor matrix, double root)
    {
        if (matrix.dim() != 2 || matrix.shape[0] != matrix.shape[1])
        {
            throw new ArgumentException($"an inverse root needs a square matrix, got shape [{string.Join(", ", matrix.shape)}]");
        }
        if (!(root > 0) || double.IsInfinity(root)) throw new ArgumentOutOfRangeException(nameof(root), $"the root must be positive and finite, got {root}");
        if (!isfinite(matrix).all().item<bool>())
        {
            throw new MatrixRootException("the factor matrix contains NaN or Inf");
        }
    }
}

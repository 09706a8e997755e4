using Dtrain.Optimizers;
using Dtrain.Optimizers.Shampoo.Preconditioner;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Tests.Optimizers;

/// <summary>Inverse roots of matrices whose eigendecomposition is known in closed form.</summary>
public class MatrixRootsTests
{
    public static TheoryData<int, int> Roots() => new() { { 2, 5 }, { 4, 8 }, { 4, 33 }, { 1, 6 } };

    /// <summary>The n x n tridiagonal [-1, 2, -1]: eigenvalues 2 - 2cos(kπ/(n+1)), eigenvectors sin(jkπ/(n+1)).</summary>
    private static Tensor Tridiagonal(int n, ScalarType type)
    {
        using var s = new HeldScalars();
        return s.Of(2) * eye(n, dtype: type) - eye(n, dtype: type).roll(1, 1).triu(1) - eye(n, dtype: type).roll(1, 0).tril(-1);
    }

    private static Tensor ClosedFormInverseRoot(int n, int root)
    {
        using var s = new HeldScalars();
        var k = arange(s.Of(1), s.Of(n + 1), s.Of(1), dtype: ScalarType.Float64);
        var values = (s.Of(2) * (k * s.Of(Math.PI) / s.Of(n + 1)).cos()).negative().add(s.Of(2), s.Of(1));   // 2 - 2cos(kπ/(n+1))
        var vectors = (k.unsqueeze(1) * k.unsqueeze(0) * s.Of(Math.PI) / s.Of(n + 1)).sin() * s.Of(Math.Sqrt(2.0 / (n + 1)));
        return (vectors * values.pow(s.Of(-1.0 / root)).unsqueeze(0)).matmul(vectors.T);
    }

    [Theory]
    [MemberData(nameof(Roots))]
    public void Eigendecomposition_matches_the_closed_form_of_the_tridiagonal(int root, int n)
    {
        var expected = ClosedFormInverseRoot(n, root);
        var float64 = MatrixRoots.InverseRootByEigendecomposition(Tridiagonal(n, ScalarType.Float64), root, epsilon: 0);
        var float32 = MatrixRoots.InverseRootByEigendecomposition(Tridiagonal(n, ScalarType.Float32), root, epsilon: 0);

        Assert.True(float64.allclose(expected, rtol: 1e-9, atol: 1e-9), $"float64 differs by {(float64 - expected).abs().max().item<double>()}");
        Assert.True(float32.to(ScalarType.Float64).allclose(expected, rtol: 1e-3, atol: 1e-3), $"float32 differs by {(float32 - expected).abs().max().item<double>()}");
        Assert.Equal(ScalarType.Float32, float32.dtype);
    }

    /// <summary>Shampoo's roots run where the factor lives: on CUDA, eigh runs on the GPU and the root stays there.</summary>
    [CudaFact]
    public void Eigendecomposition_of_a_cuda_matrix_runs_on_the_gpu_and_matches_the_closed_form()
    {
        var expected = ClosedFormInverseRoot(33, 4);
        var root = MatrixRoots.InverseRootByEigendecomposition(Tridiagonal(33, ScalarType.Float32).cuda(), 4, epsilon: 0);
        Assert.Equal(DeviceType.CUDA, root.device_type);
        Assert.Equal(ScalarType.Float32, root.dtype);
        var difference = (root.cpu().to(ScalarType.Float64) - expected).abs().max().item<double>();
        Assert.True(difference < 1e-3, $"differs by {difference}");
    }

    [Theory]
    [MemberData(nameof(Roots))]
    public void Coupled_newton_matches_the_closed_form_of_the_tridiagonal(int root, int n)
    {
        var expected = ClosedFormInverseRoot(n, root);
        var x = MatrixRoots.InverseRootByCoupledNewton(Tridiagonal(n, ScalarType.Float64), root, tolerance: 1e-10);
        Assert.True(x.allclose(expected, rtol: 1e-6, atol: 1e-6), $"differs by {(x - expected).abs().max().item<double>()}");
    }

    [Fact]
    public void The_identity_is_its_own_inverse_root_and_epsilon_regularizes()
    {
        var identity = eye(6, dtype: ScalarType.Float64);
        using var half = 0.5.ToScalar();
        Assert.True(MatrixRoots.InverseRootByEigendecomposition(identity, 4, epsilon: 0).allclose(identity, atol: 1e-12));
        Assert.True(MatrixRoots.InverseRootByCoupledNewton(identity, 4).allclose(identity, atol: 1e-6));
        // (1 + 3)^(-1/2) = 0.5 on the diagonal.
        Assert.True(MatrixRoots.InverseRootByEigendecomposition(identity, 2, epsilon: 3).allclose(identity * half, atol: 1e-12));
    }

    [Fact]
    public void A_factor_that_is_not_positive_definite_is_shifted_so_its_smallest_eigenvalue_becomes_epsilon()
    {
        // diag(0, 4) + εI = diag(0.25, 4.25): the smallest is not below ε, no shift: X = diag(0.25^-0.5, 4.25^-0.5).
        var singular = diag(tensor(new double[] { 0, 4 }));
        var x = MatrixRoots.InverseRootByEigendecomposition(singular, 2, epsilon: 0.25);
        Assert.True(x.allclose(diag(tensor(new[] { 2.0, Math.Pow(4.25, -0.5) })), atol: 1e-12));
        var negative = diag(tensor(new double[] { -1, 3 }));
        // diag(-1, 3) + εI = diag(-0.75, 3.25): below ε, so shift by 0.75 and add ε again: diag(0.25, 4.25).
        Assert.True(MatrixRoots.InverseRootByEigendecomposition(negative, 2, epsilon: 0.25).allclose(diag(tensor(new[] { 2.0, Math.Pow(4.25, -0.5) })), atol: 1e-12));
    }

    /// <summary>
    /// c(J + I), J all ones (n = 4): eigenvalues 5c once and c three times. At c = 1e38 the entries fit float32
    /// but 5c does not, so float32 eigh returns an infinite eigenvalue and the root is retried in float64.
    /// Closed form: X = (5c)^(-1/p) J/n + c^(-1/p) (I - J/n).
    /// </summary>
    [Fact]
    public void A_float32_eigendecomposition_that_overflows_is_retried_in_float64()
    {
        const double c = 1e38;
        using var s = new HeldScalars();
        var j = ones(4, 4, dtype: ScalarType.Float64) / s.Of(4);
        var identity = eye(4, dtype: ScalarType.Float64);
        var matrix = (s.Of(c) * (s.Of(4) * j).add(identity, s.Of(1))).to(ScalarType.Float32);
        Assert.False(isfinite(linalg.eigvalsh(matrix)).all().item<bool>());   // the premise: float32 overflows

        var x = MatrixRoots.InverseRootByEigendecomposition(matrix, 2, epsilon: 0);
        var expected = (s.Of(Math.Pow(5 * c, -0.5)) * j).add(s.Of(Math.Pow(c, -0.5)) * (identity - j), s.Of(1));
        Assert.Equal(ScalarType.Float32, x.dtype);
        Assert.True(x.to(ScalarType.Float64).allclose(expected, rtol: 1e-5, atol: 0), $"differs by {(x.to(ScalarType.Float64) - expected).abs().max().item<double>()}");
    }

    [Fact]
    public void Nan_or_inf_and_bad_shapes_are_refused_by_name()
    {
        var nan = eye(3, dtype: ScalarType.Float32);
        nan[1, 1] = float.NaN;
        Assert.Equal("the factor matrix contains NaN or Inf",
            Assert.Throws<MatrixRootException>(() => MatrixRoots.InverseRootByEigendecomposition(nan, 2)).Message);
        Assert.Throws<MatrixRootException>(() => MatrixRoots.InverseRootByCoupledNewton(nan, 2));
        Assert.Equal("an inverse root needs a square matrix, got shape [2, 3]",
            Assert.Throws<ArgumentException>(() => MatrixRoots.InverseRootByEigendecomposition(zeros(2, 3), 2)).Message);
    }
}

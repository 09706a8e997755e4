using Dtrain.Collectives;
using Dtrain.Collectives.Tensors;
using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Tests.Collectives;

public class TensorCollectivesTests
{
    public static TheoryData<ScalarType> Types() => new(ScalarType.Float32, ScalarType.BFloat16, ScalarType.Float64, ScalarType.Int64);

    [Theory]
    [MemberData(nameof(Types))]
    public async Task All_reduce_sums_tensors_in_place(ScalarType type)
    {
        var group = InProcessGroup.Create(3);
        using var s = new HeldScalars();   // integral Scalars, as implicit ones from ints would be
        // Small integers are exact in every type, so the sum is exact whatever the order.
        var tensors = Enumerable.Range(0, 3).Select(r => arange(s.Of(r), s.Of(r + 70), s.Of(1), dtype: type).reshape(7, 10)).ToArray();
        var expected = tensors[0].add(tensors[1], s.Of(1)).add(tensors[2], s.Of(1)).clone();

        await Conformance.OnAllRanks(group, comm => comm.AllReduceAsync(tensors[comm.Rank], ReduceOp.Sum));

        Assert.All(tensors, t => Assert.True(t.eq(expected).all().item<bool>()));
    }

    [Fact]
    public async Task A_non_contiguous_tensor_is_staged_and_written_back()
    {
        var group = InProcessGroup.Create(2);
        var bases = new[] { rand(4, 6, generator: new Generator(1)), rand(4, 6, generator: new Generator(2)) };
        var views = bases.Select(b => b.t()).ToArray();   // transposed: not contiguous
        using var s = new HeldScalars();
        var expected = views[0].add(views[1], s.One).clone();

        await Conformance.OnAllRanks(group, comm => comm.AllReduceAsync(views[comm.Rank], ReduceOp.Sum));

        Assert.All(views, v => Assert.True(v.allclose(expected, rtol: 0, atol: 1e-6)));
        Assert.False(views[0].is_contiguous());
    }

    [Fact]
    public async Task Broadcast_copies_the_root_tensor()
    {
        var group = InProcessGroup.Create(3);
        var tensors = Enumerable.Range(0, 3).Select(r => randn(5, generator: new Generator((ulong)r)).to(ScalarType.Float64)).ToArray();
        var expected = tensors[2].clone();
        await Conformance.OnAllRanks(group, comm => comm.BroadcastAsync(tensors[comm.Rank], root: 2));
        Assert.All(tensors, t => Assert.True(t.eq(expected).all().item<bool>()));
    }

    [Fact]
    public async Task Unsupported_types_are_refused_by_name()
    {
        var group = InProcessGroup.Create(1);
        var error = await Assert.ThrowsAsync<NotSupportedException>(() => group[0].AllReduceAsync(zeros(3, ScalarType.Int8)));
        Assert.Equal("collectives support float32, bfloat16, float64 and int64 tensors, not Int8", error.Message);
    }
}

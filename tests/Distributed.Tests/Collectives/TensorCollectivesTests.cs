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
    public void A_staging_buffer_is_allocated_once_and_reused_for_the_next_tensor_of_its_type_and_size()
    {
        // An odd size no other test stages, so that the buffers seen here are this test's own.
        using var first = randn(13, 31).t();
        using var second = randn(13, 31).t();
        IntPtr used;
        using (var staged = HostTensor.Of(first))
        {
            Assert.True(staged.IsStaged);
            used = staged.Address;
        }
        using (var again = HostTensor.Of(second))
        {
            Assert.Equal(used, again.Address);
            Assert.Equal(second.contiguous().data<float>().ToArray(), again.As<float>().ToArray());
        }
        using var contiguous = randn(13, 31);
        using var direct = HostTensor.Of(contiguous);
        Assert.False(direct.IsStaged);
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

    [CudaFact]
    public Task Cuda_tensors_all_reduce_as_cpu_tensors_do() =>
        AssertCudaEqualsCpu([20_000], (comm, tensors) => comm.AllReduceAsync(tensors[0], ReduceOp.Sum));

    [CudaFact]
    public Task Cuda_tensors_broadcast_as_cpu_tensors_do() =>
        AssertCudaEqualsCpu([20_000], (comm, tensors) => comm.BroadcastAsync(tensors[0], root: 1));

    /// <summary>Variable counts: rank r contributes the first counts[r] elements of its first tensor into its second.</summary>
    [CudaFact]
    public Task Cuda_tensors_all_gather_as_cpu_tensors_do()
    {
        int[] counts = [300, 5_000, 17_000];
        return AssertCudaEqualsCpu([17_000, counts.Sum()], (comm, tensors) =>
            comm.AllGatherAsync(tensors[0].narrow(0, 0, counts[comm.Rank]), tensors[1], counts));
    }

    /// <summary>
    /// Runs <paramref name="collective"/> on 3 ranks, each with seeded tensors of <paramref name="lengths"/>, first on
    /// the CPU, then on CUDA copies: every CUDA tensor must end equal to its CPU twin bitwise (the staged elements go
    /// through the same algorithm) and still be on CUDA.
    /// </summary>
    private static async Task AssertCudaEqualsCpu(long[] lengths, Func<Communicator, Tensor[], Task> collective)
    {
        const int ranks = 3;
        var cpu = Enumerable.Range(0, ranks).Select(r => lengths.Select(n => randn(n, generator: new Generator((ulong)(100 * r + n)))).ToArray()).ToArray();
        var gpu = cpu.Select(tensors => tensors.Select(t => t.cuda()).ToArray()).ToArray();
        var before = cpu.Select(tensors => tensors.Select(t => t.clone()).ToArray()).ToArray();

        await Conformance.OnAllRanks(InProcessGroup.Create(ranks), comm => collective(comm, cpu[comm.Rank]));
        await Conformance.OnAllRanks(InProcessGroup.Create(ranks), comm => collective(comm, gpu[comm.Rank]));

        Assert.Contains(cpu.Zip(before).SelectMany(pair => pair.First.Zip(pair.Second)), pair => !pair.First.eq(pair.Second).all().item<bool>());
        for (int r = 0; r < ranks; r++)
        {
            for (int i = 0; i < lengths.Length; i++)
            {
                Assert.Equal(DeviceType.CUDA, gpu[r][i].device_type);
                Assert.True(gpu[r][i].cpu().eq(cpu[r][i]).all().item<bool>(), $"rank {r}, tensor {i}: the CUDA result differs from the CPU result");
            }
        }
    }

    [Fact]
    public async Task Unsupported_types_are_refused_by_name()
    {
        var group = InProcessGroup.Create(1);
        var error = await Assert.ThrowsAsync<NotSupportedException>(() => group[0].AllReduceAsync(zeros(3, ScalarType.Int8)));
        Assert.Equal("collectives support float32, bfloat16, float64 and int64 tensors, not Int8", error.Message);
    }
}

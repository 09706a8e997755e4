using static TorchSharp.torch;

namespace Dtrain.Collectives.Tensors;

/// <summary>
/// Collectives on TorchSharp tensors of float32, bfloat16, float64 or int64, on the CPU or on CUDA (staged
/// through pinned host memory), with torch.distributed's in-place semantics.
/// </summary>
public static class TensorCollectives
{
    public static Task AllReduceAsync(this Communicator comm, Tensor tensor, ReduceOp op = ReduceOp.Sum, CancellationToken ct = default) =>
        InPlace(tensor, host => host.DataType switch
        {
            ScalarType.Float32 => comm.AllReduceAsync(host.As<float>(), op, ct),
            ScalarType.BFloat16 => comm.AllReduceAsync(host.As<BFloat16>(), op, ct),
            ScalarType.Float64 => comm.AllReduceAsync(host.As<double>(), op, ct),
            ScalarType.Int64 => comm.AllReduceAsync(host.As<long>(), op, ct),
            var other => throw Unsupported(other),
        });

    public static Task BroadcastAsync(this Communicator comm, Tensor tensor, int root = 0, CancellationToken ct = default) =>
        InPlace(tensor, host => host.DataType switch
        {
            ScalarType.Float32 => comm.BroadcastAsync(host.As<float>(), root, ct),
            ScalarType.BFloat16 => comm.BroadcastAsync(host.As<BFloat16>(), root, ct),
            ScalarType.Float64 => comm.BroadcastAsync(host.As<double>(), root, ct),
            ScalarType.Int64 => comm.BroadcastAsync(host.As<long>(), root, ct),
            var other => throw Unsupported(other),
        });

    private static async Task InPlace(Tensor tensor, Func<HostTensor, Task> operation)
    {
        using var host = HostTensor.Of(tensor);
        await operation(host);
        host.CopyBack();
    }

    private static NotSupportedException Unsupported(ScalarType type) =>
        new($"collectives support float32, bfloat16, float64 and int64 tensors, not {type}");
}

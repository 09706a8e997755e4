using static TorchSharp.torch;

namespace Dtrain.Collectives.Tensors;

/// <summary>
/// Collectives on TorchSharp tensors of float32, bfloat16, float64 or int64, on the CPU or on CUDA (staged
/// through pinned host memory), with torch.distributed's in-place semantics.
/// </summary>
public static class TensorCollectives
{
    public static Task AllReduceAsync(this Communicator comm, Tensor tensor, ReduceOp op = ReduceOp.Sum, CancellationToken ct = default) =>
        Staged(tensor, writeBack: true, new AllReduce(comm, op, ct));

    public static Task BroadcastAsync(this Communicator comm, Tensor tensor, int root = 0, CancellationToken ct = default) =>
        Staged(tensor, writeBack: true, new Broadcast(comm, root, ct));

    /// <summary>
    /// Every rank's <paramref name="input"/>, its elements concatenated in rank order into <paramref name="output"/>.
    /// Rank r contributes <paramref name="counts"/>[r] elements (all the same when null).
    /// </summary>
    public static async Task AllGatherAsync(
        this Communicator comm, Tensor input, Tensor output, IReadOnlyList<int>? counts = null, CancellationToken ct = default)
    {
        if (input.dtype != output.dtype)
        {
            throw new ArgumentException($"all_gather of a {input.dtype} input into a {output.dtype} output");
        }
        using var host = HostTensor.Of(input);
        await Staged(output, writeBack: true, new AllGather(comm, host, counts, ct));
    }

    /// <summary>
    /// Reduces <paramref name="input"/> (Size × output's elements) across ranks; rank r receives block r in
    /// <paramref name="output"/>, which may be that block of the input itself.
    /// </summary>
    public static async Task ReduceScatterAsync(
        this Communicator comm, Tensor input, Tensor output, ReduceOp op = ReduceOp.Sum, CancellationToken ct = default)
    {
        if (input.dtype != output.dtype)
        {
            throw new ArgumentException($"reduce_scatter of a {input.dtype} input into a {output.dtype} output");
        }
        using var host = HostTensor.Of(input);
        await Staged(output, writeBack: true, new ReduceScatter(comm, host, op, ct));
    }

    /// <summary>Sends the tensor's elements to <paramref name="peer"/>, which receives them into a tensor of the same size and type.</summary>
    public static Task SendAsync(this Communicator comm, int peer, Tensor tensor, CancellationToken ct = default) =>
        Staged(tensor, writeBack: false, new Send(comm, peer, ct));

    /// <summary>Receives a message of <paramref name="peer"/> into <paramref name="tensor"/>, in place.</summary>
    public static Task ReceiveAsync(this Communicator comm, int peer, Tensor tensor, CancellationToken ct = default) =>
        Staged(tensor, writeBack: true, new Receive(comm, peer, ct));

    private static async Task Staged(Tensor tensor, bool writeBack, IElementOperation operation)
    {
        using var host = HostTensor.Of(tensor);
        await OnElements(host, operation);
        if (writeBack) host.CopyBack();
    }

    private static Task OnElements(HostTensor host, IElementOperation operation) => host.DataType switch
    {
        ScalarType.Float32 => operation.Run(host.As<float>()),
        ScalarType.BFloat16 => operation.Run(host.As<BFloat16>()),
        ScalarType.Float64 => operation.Run(host.As<double>()),
        ScalarType.Int64 => operation.Run(host.As<long>()),
        var other => throw new NotSupportedException($"collectives support float32, bfloat16, float64 and int64 tensors, not {other}"),
    };

    /// <summary>A collective on a tensor's elements as their .NET type, which only the tensor's dtype tells.</summary>
    private interface IElementOperation
    {
        Task Run<T>(Memory<T> elements) where T : unmanaged;
    }

    private sealed record AllReduce(Communicator Comm, ReduceOp Op, CancellationToken Ct) : IElementOperation
    {
        public Task Run<T>(Memory<T> elements) where T : unmanaged => Comm.AllReduceAsync(elements, Op, Ct);
    }

    private sealed record Broadcast(Communicator Comm, int Root, CancellationToken Ct) : IElementOperation
    {
        public Task Run<T>(Memory<T> elements) where T : unmanaged => Comm.BroadcastAsync(elements, Root, Ct);
    }

    private sealed record AllGather(Communicator Comm, HostTensor Input, IReadOnlyList<int>? Counts, CancellationToken Ct) : IElementOperation
    {
        public Task Run<T>(Memory<T> elements) where T : unmanaged => Counts is null
            ? Comm.AllGatherAsync<T>(Input.As<T>(), elements, Ct)
            : Comm.AllGatherAsync<T>(Input.As<T>(), elements, Counts, Ct);
    }

    /// <remarks>The collective copies the input before it writes the output, so the two may overlap.</remarks>
    private sealed record ReduceScatter(Communicator Comm, HostTensor Input, ReduceOp Op, CancellationToken Ct) : IElementOperation
    {
        public Task Run<T>(Memory<T> elements) where T : unmanaged => Comm.ReduceScatterAsync<T>(Input.As<T>(), elements, Op, Ct);
    }

    private sealed record Send(Communicator Comm, int Peer, CancellationToken Ct) : IElementOperation
    {
        public Task Run<T>(Memory<T> elements) where T : unmanaged => Comm.SendAsync<T>(Peer, elements, Ct);
    }

    private sealed record Receive(Communicator Comm, int Peer, CancellationToken Ct) : IElementOperation
    {
        public Task Run<T>(Memory<T> elements) where T : unmanaged => Comm.ReceiveAsync(Peer, elements, Ct);
    }
}

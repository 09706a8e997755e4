using Dtrain.Collectives;
using Dtrain.Collectives.Buffers;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Worker.Training;

/// <summary>
/// Averages the gradients of all parameters across ranks with one all-reduce per step: the gradients are
/// packed into one flat CPU buffer (in parameter order), reduced in place, and unpacked. One bucket is right for
/// models this small; bucketing by size comes with the collectives work.
/// </summary>
public sealed class GradientAverager : IDisposable
{
    private readonly IReadOnlyList<Parameter> parameters;
    private readonly Tensor flat;
    private readonly UnmanagedMemoryManager<float> view;

    public GradientAverager(IEnumerable<Parameter> parameters)
    {
        this.parameters = parameters.ToArray();
        long total = this.parameters.Sum(p => p.numel());
        flat = zeros(total, dtype: ScalarType.Float32).DetachFromDisposeScope();
        // A CPU tensor's storage never moves, so the collective can read and write it where it is.
        unsafe
        {
            fixed (byte* start = flat.bytes)
            {
                view = new UnmanagedMemoryManager<float>((float*)start, checked((int)total));
            }
        }
    }

    public long Bytes => flat.numel() * sizeof(float);

    public async Task AverageAsync(Communicator comm, CancellationToken ct)
    {
        Pack();
        await comm.AllReduceAsync(view.Memory, ReduceOp.Average, ct);
        Unpack();
    }

    private void Pack()
    {
        using var scope = NewDisposeScope();
        long offset = 0;
        foreach (var p in parameters)
        {
            flat.narrow(0, offset, p.numel()).copy_(p.grad!.flatten());
            offset += p.numel();
        }
    }

    private void Unpack()
    {
        using var scope = NewDisposeScope();
        long offset = 0;
        foreach (var p in parameters)
        {
            p.grad!.copy_(flat.narrow(0, offset, p.numel()).view_as(p));
            offset += p.numel();
        }
    }

    public void Dispose() => flat.Dispose();
}

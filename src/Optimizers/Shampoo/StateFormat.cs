using Dtrain.Contracts;
using static TorchSharp.torch;

namespace Dtrain.Optimizers.Shampoo;

/// <summary>
/// Shampoo state on disk: a magic string and version, then per block its global index and tensors, each as
/// dtype, shape and raw bytes. Loading copies into state tensors that already exist, checking shape and dtype.
/// </summary>
internal static class StateFormat
{
    public const string Magic = "dtrain-shampoo-state";
    public const int Version = 1;

    public static void Write(BinaryWriter writer, Tensor tensor)
    {
        using var host = tensor.cpu().contiguous();
        writer.Write((int)host.dtype);
        writer.Write(host.dim());
        foreach (long size in host.shape) writer.Write(size);
        writer.Write(host.bytes);
    }

    public static void ReadInto(BinaryReader reader, Tensor tensor, string what)
    {
        var dtype = (ScalarType)reader.ReadInt32();
        var shape = new long[reader.ReadInt64()];
        for (int d = 0; d < shape.Length; d++) shape[d] = reader.ReadInt64();
        if (dtype != tensor.dtype || !shape.SequenceEqual(tensor.shape))
        {
            throw new DtrainException(
                $"{what}: saved as {dtype} [{string.Join(", ", shape)}], expected {tensor.dtype} [{string.Join(", ", tensor.shape)}]");
        }
        using var host = empty(shape, dtype, CPU);
        reader.ReadExactly(host.bytes);
        tensor.copy_(host);
    }
}

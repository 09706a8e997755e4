using Dtrain.Contracts;
using static TorchSharp.torch;

namespace Dtrain.Optimizers;

/// <summary>
/// An optimizer state tensor on disk: dtype, shape and raw bytes. Reading copies into a state tensor that already
/// exists, checking its shape and dtype.
/// </summary>
internal static class TensorFormat
{
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
        var (dtype, shape) = ReadHeader(reader);
        if (dtype != tensor.dtype || !shape.SequenceEqual(tensor.shape))
        {
            throw new DtrainException(
                $"{what}: saved as {dtype} [{string.Join(", ", shape)}], expected {tensor.dtype} [{string.Join(", ", tensor.shape)}]");
        }
        using var host = empty(shape, dtype, CPU);
        reader.ReadExactly(host.bytes);
        tensor.copy_(host);
    }

    /// <summary>Reads past one tensor.</summary>
    public static void Skip(BinaryReader reader)
    {
        var (dtype, shape) = ReadHeader(reader);
        using var host = empty(shape, dtype, CPU);
        reader.ReadExactly(host.bytes);
    }

    private static (ScalarType Type, long[] Shape) ReadHeader(BinaryReader reader)
    {
        var dtype = (ScalarType)reader.ReadInt32();
        var shape = new long[reader.ReadInt64()];
        for (int d = 0; d < shape.Length; d++) shape[d] = reader.ReadInt64();
        return (dtype, shape);
    }
}

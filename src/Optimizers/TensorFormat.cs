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
        if (!Enum.IsDefined(dtype)) throw new InvalidDataException($"a tensor of dtype {(int)dtype}");
        using var element = empty(new long[] { 0 }, dtype, CPU);
        long bytes = shape.Aggregate(element.ElementSize, (product, size) => size == 0 || product <= long.MaxValue / size ? product * size : long.MaxValue);
        if (bytes > reader.BaseStream.Length - reader.BaseStream.Position) throw new EndOfStreamException($"a tensor of {bytes} bytes past the end");
        reader.BaseStream.Seek(bytes, SeekOrigin.Current);
    }

    /// <summary>The dtype and shape; an <see cref="InvalidDataException"/> for a rank or size no tensor has (before anything is allocated).</summary>
    private static (ScalarType Type, long[] Shape) ReadHeader(BinaryReader reader)
    {
        var dtype = (ScalarType)reader.ReadInt32();
        long rank = reader.ReadInt64();
        if (rank is < 0 or > 64) throw new InvalidDataException($"a tensor of {rank} dimensions");
        var shape = new long[rank];
        for (int d = 0; d < shape.Length; d++)
        {
            shape[d] = reader.ReadInt64();
            if (shape[d] < 0) throw new InvalidDataException($"a tensor of size {shape[d]}");
        }
        return (dtype, shape);
    }
}

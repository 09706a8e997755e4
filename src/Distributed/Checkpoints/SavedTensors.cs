using static TorchSharp.torch;

namespace Dtrain.Distributed.Checkpoints;

/// <summary>
/// Reads a tensor in TorchSharp's Tensor.Save form (LEB128 dtype, rank and sizes, then the raw bytes) into a tensor
/// that exists, checking the dtype and element count before anything is allocated: a damaged shard is an
/// <see cref="InvalidDataException"/>, never a huge allocation or a native failure (Tensor.Load trusts the sizes).
/// </summary>
internal static class SavedTensors
{
    /// <summary>More dimensions than any tensor has (PyTorch allows 64).</summary>
    private const int MaxRank = 64;

    public static void ReadInto(BinaryReader reader, Tensor target, string what)
    {
        long dtype = Decode(reader), rank = Decode(reader);
        if (rank > MaxRank) throw new InvalidDataException($"{what}: {rank} dimensions");
        long count = 1;
        var shape = new long[rank];
        for (int d = 0; d < rank; d++)
        {
            shape[d] = Decode(reader);
            count = shape[d] == 0 || count <= long.MaxValue / shape[d] ? count * shape[d] : long.MaxValue;
        }
        if (dtype != (long)target.dtype || count != target.numel())
        {
            throw new InvalidDataException(
                $"{what}: saved as {(ScalarType)dtype} [{string.Join(", ", shape)}], expected {target.dtype} [{string.Join(", ", target.shape)}]");
        }
        using var host = empty(target.shape, target.dtype, CPU);
        reader.BaseStream.ReadExactly(host.bytes);
        target.copy_(host);
    }

    /// <summary>An unsigned LEB128 number of at most 9 bytes (63 bits), as TorchSharp writes them.</summary>
    private static long Decode(BinaryReader reader)
    {
        long value = 0;
        for (int shift = 0; shift < 63; shift += 7)
        {
            byte next = reader.ReadByte();
            value |= (long)(next & 0x7F) << shift;
            if ((next & 0x80) == 0) return value;
        }
        throw new InvalidDataException("a size longer than 63 bits");
    }
}

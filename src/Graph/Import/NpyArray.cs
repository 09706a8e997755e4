using Dtrain.Contracts;
using Dtrain.Contracts.Storage;

namespace Dtrain.Graph.Import;

/// <summary>
/// A NumPy .npy file opened for streaming: its header (<see cref="NpyHeader"/>) read, its elements read one by
/// one from a buffered stream, never the whole array at once.
/// </summary>
internal sealed class NpyArray : IDisposable
{
    private readonly BinaryReader reader;

    private NpyArray(string path, string dtype, long[] shape, BinaryReader reader)
    {
        (Path, DataType, Shape, this.reader) = (path, dtype, shape, reader);
    }

    public string Path { get; }

    /// <summary>The array's dtype as NumPy writes it: "&lt;i8", "&lt;f4", "|b1", …</summary>
    public string DataType { get; }

    public long[] Shape { get; }

    /// <summary>The dtypes the importer reads; <see cref="Require"/> names the ones each input takes.</summary>
    private static readonly string[] Readable = ["<i8", "<i4", "<f4", "<f8", "|b1", "|u1"];

    public static NpyArray Open(string path)
    {
        var stream = new BufferedStream(File.OpenRead(path), 1 << 16);
        try
        {
            var header = NpyHeader.Read(path, stream, Readable);
            return new NpyArray(path, header.DType, header.Shape, new BinaryReader(stream));
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Refuses the array unless its dtype is one of <paramref name="dtypes"/> and it has <paramref name="rank"/> dims.</summary>
    public void Require(int rank, string what, params string[] dtypes)
    {
        if (!dtypes.Contains(DataType)) throw new DtrainException($"{Path}: {what} must have dtype {string.Join(" or ", dtypes)}, got {DataType}");
        if (Shape.Length != rank) throw new DtrainException($"{Path}: {what} must have {rank} dims, got shape ({string.Join(", ", Shape)})");
    }

    /// <summary>The next element as an integer (int64, int32, uint8 or bool arrays).</summary>
    public long NextInteger() => DataType switch
    {
        "<i8" => reader.ReadInt64(),
        "<i4" => reader.ReadInt32(),
        _ => reader.ReadByte(),
    };

    /// <summary>The next element of a float32 array.</summary>
    public float NextSingle() => reader.ReadSingle();

    public void Dispose() => reader.Dispose();
}

using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Dtrain.Contracts;

namespace Dtrain.Graph.Import;

/// <summary>
/// A NumPy .npy file opened for streaming: its header (dtype, C order, shape) read, its elements read one by one
/// from a buffered stream, never the whole array at once. Little-endian integer, float and bool dtypes only.
/// </summary>
internal sealed partial class NpyArray : IDisposable
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private readonly BinaryReader reader;

    private NpyArray(string path, string dtype, long[] shape, BinaryReader reader)
    {
        (Path, DataType, Shape, this.reader) = (path, dtype, shape, reader);
    }

    public string Path { get; }

    /// <summary>The array's dtype as NumPy writes it: "&lt;i8", "&lt;f4", "|b1", …</summary>
    public string DataType { get; }

    public long[] Shape { get; }

    public static NpyArray Open(string path)
    {
        var reader = new BinaryReader(new BufferedStream(File.OpenRead(path), 1 << 16));
        try
        {
            if (!reader.ReadBytes(Magic.Length).SequenceEqual(Magic)) throw new DtrainException($"{path}: not a .npy file");
            int major = reader.ReadByte();
            reader.ReadByte();
            int headerLength = major == 1 ? reader.ReadUInt16() : (int)reader.ReadUInt32();
            string header = Encoding.UTF8.GetString(reader.ReadBytes(headerLength));
            var dtype = DescrPattern().Match(header);
            var shape = ShapePattern().Match(header);
            if (!dtype.Success || !shape.Success) throw new DtrainException($"{path}: the .npy header names no dtype or shape");
            if (FortranPattern().IsMatch(header)) throw new DtrainException($"{path}: the array is in Fortran order; save it in C order");
            var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(d => long.Parse(d, CultureInfo.InvariantCulture)).ToArray();
            return new NpyArray(path, dtype.Groups[1].Value, dims, reader);
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException or OverflowException)
        {
            reader.Dispose();
            throw new DtrainException($"{path}: not a readable .npy file ({e.Message})");
        }
        catch
        {
            reader.Dispose();
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

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*True")]
    private static partial Regex FortranPattern();
}

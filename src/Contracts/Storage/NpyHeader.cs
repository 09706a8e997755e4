using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;

namespace Dtrain.Contracts.Storage;

/// <summary>
/// The header of a NumPy .npy file (format versions 1 to 3): its dtype, its shape, and where the data starts.
/// Only little-endian C-order arrays of the dtypes a reader asks for are accepted; anything else (Fortran order,
/// big-endian, objects, structured arrays) is refused rather than guessed at. Errors name the byte offset.
/// </summary>
public sealed partial record NpyHeader(string DType, long[] Shape, long DataOffset)
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>A bound on the header's length, so a corrupt length field fails here rather than as an allocation.</summary>
    private const int MaxHeaderLength = 1 << 20;

    /// <summary>The shape as NumPy prints it, e.g. "(3, 4)".</summary>
    public string ShapeText => Shape.Length == 1 ? $"({Shape[0]},)" : $"({string.Join(", ", Shape)})";

    /// <summary>The number of elements, refused where it is more than one .NET array of <paramref name="elementSize"/>-byte elements holds.</summary>
    public int ElementCount(string path, int elementSize)
    {
        var count = Shape.Aggregate(BigInteger.One, (product, dimension) => product * dimension);
        if (count * elementSize > Array.MaxLength) throw new DataFormatException(path, $"byte {DataOffset}: shape {ShapeText} holds more than one array can");
        return (int)count;
    }

    /// <summary>Reads the header from the start of <paramref name="stream"/>, leaving the stream at the data.</summary>
    /// <param name="dtypes">The dtypes the caller reads, e.g. "&lt;f4".</param>
    public static NpyHeader Read(string path, Stream stream, IReadOnlyCollection<string> dtypes)
    {
        // The preamble: magic, major and minor version, then the header's length (2 bytes in version 1, 4 after).
        var preamble = new byte[12];
        int have = stream.ReadAtLeast(preamble.AsSpan(0, 6), 6, throwOnEndOfStream: false);
        if (have == 0) throw new DataFormatException(path, "the file is empty");
        if (!preamble.AsSpan(0, 6).SequenceEqual(Magic))
        {
            throw new DataFormatException(path, "byte 0: not a .npy file (it does not start with \\x93NUMPY)");
        }
        Fill(path, stream, preamble.AsSpan(6, 4), 6, "the preamble");
        int major = preamble[6];
        if (major is < 1 or > 3) throw new DataFormatException(path, $"byte 6: .npy format version {major}.{preamble[7]} is not supported (1 to 3 are)");
        if (major > 1) Fill(path, stream, preamble.AsSpan(10, 2), 10, "the preamble");
        long headerStart = major == 1 ? 10 : 12;
        long headerLength = major == 1 ? BitConverter.ToUInt16(preamble, 8) : BitConverter.ToUInt32(preamble, 8);
        if (headerLength > MaxHeaderLength)
        {
            throw new DataFormatException(path, $"byte 8: a header of {headerLength} bytes is implausible (np.save writes a few hundred)");
        }
        var headerBytes = new byte[headerLength];
        Fill(path, stream, headerBytes, headerStart, "the header");
        // Versions 1 and 2 write the header in Latin-1, version 3 in UTF-8.
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        var (dtype, shape) = Parse(path, header, headerStart, dtypes);
        return new NpyHeader(dtype, shape, headerStart + headerLength);
    }

    /// <summary>Fills <paramref name="buffer"/> from the stream, which is at byte <paramref name="offset"/> of the file; a short file is named with the byte it ends at.</summary>
    public static void Fill(string path, Stream stream, Span<byte> buffer, long offset, string what)
    {
        int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read < buffer.Length)
        {
            throw new DataFormatException(path, $"truncated at byte {offset + read}: {what} runs to byte {offset + buffer.Length}");
        }
    }

    /// <summary>The dtype and shape from a header such as {'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }.</summary>
    private static (string DType, long[] Shape) Parse(string path, string header, long offset, IReadOnlyCollection<string> dtypes)
    {
        if (DescrPattern().Match(header) is not { Success: true } descr)
        {
            throw new DataFormatException(path, $"byte {offset}: the header has no dtype string (structured arrays are not supported)");
        }
        string dtype = descr.Groups[1].Value;
        if (!dtypes.Contains(dtype))
        {
            throw new DataFormatException(path, $"byte {offset}: dtype '{dtype}' is not supported (only {string.Join(" ", dtypes)}, little-endian)");
        }
        if (FortranOrderPattern().Match(header) is not { Success: true } order)
        {
            throw new DataFormatException(path, $"byte {offset}: the header has no fortran_order");
        }
        if (order.Groups[1].Value == "True")
        {
            throw new DataFormatException(path, $"byte {offset}: Fortran-order arrays are not supported (save np.ascontiguousarray(a))");
        }
        if (ShapePattern().Match(header) is not { Success: true } shape)
        {
            throw new DataFormatException(path, $"byte {offset}: the header has no shape tuple");
        }
        var dimensions = shape.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        long[] parsed = new long[dimensions.Length];
        for (int i = 0; i < dimensions.Length; i++)
        {
            if (!long.TryParse(dimensions[i], NumberStyles.None, CultureInfo.InvariantCulture, out parsed[i]))
            {
                throw new DataFormatException(path, $"byte {offset}: shape {shape.Value} has a dimension that is not a count");
            }
        }
        return (dtype, parsed);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranOrderPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}

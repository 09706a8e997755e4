using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Dtrain.Models.Data;

/// <summary>
/// An array from a NumPy .npy file (format versions 1 to 3; gzipped when the name ends .gz): little-endian, C order,
/// of dtype &lt;f4, &lt;f8, &lt;i4, &lt;i8, |u1 or |b1. Those are what np.save writes for the usual feature and label
/// arrays; anything else (Fortran order, big-endian, objects, structured arrays) is refused rather than guessed at.
/// </summary>
public sealed partial class NpyArray
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>A bound on the header's length, so a corrupt length field fails here rather than as an allocation.</summary>
    private const int MaxHeaderLength = 1 << 20;

    /// <summary>Each dtype read: its size in bytes and an array of n of its elements.</summary>
    private static readonly Dictionary<string, (int Size, Func<int, Array> Allocate)> DTypes = new()
    {
        ["<f4"] = (4, n => new float[n]),
        ["<f8"] = (8, n => new double[n]),
        ["<i4"] = (4, n => new int[n]),
        ["<i8"] = (8, n => new long[n]),
        ["|u1"] = (1, n => new byte[n]),
        ["|b1"] = (1, n => new bool[n]),
    };

    private NpyArray(string path, string dtype, long[] shape, Array data) => (Path, DType, Shape, Data) = (path, dtype, shape, data);

    public string Path { get; }

    /// <summary>NumPy's name of the element type, e.g. "&lt;f4".</summary>
    public string DType { get; }

    /// <summary>The dimensions, outermost first; empty for a scalar.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The elements in C order: a float[], double[], int[], long[], byte[] or bool[] as <see cref="DType"/> says.</summary>
    public Array Data { get; }

    /// <summary>Reads <paramref name="path"/>; a malformed file throws a <see cref="DataFormatException"/> naming the byte offset.</summary>
    public static NpyArray Read(string path) => DataFile.Read(path, stream => Load(path, stream));

    /// <summary>The array as a tensor of its own shape and element type (float32 for &lt;f4, int64 for &lt;i8, ...).</summary>
    public Tensor ToTensor(Device? device = null)
    {
        long[] shape = [.. Shape];
        return Data switch
        {
            float[] values => tensor(values, shape, device: device),
            double[] values => tensor(values, shape, device: device),
            int[] values => tensor(values, shape, device: device),
            long[] values => tensor(values, shape, device: device),
            byte[] values => tensor(values, shape, device: device),
            bool[] values => tensor(values, shape, device: device),
            _ => throw new InvalidOperationException($"no tensor for {Data.GetType()}"),
        };
    }

    private static NpyArray Load(string path, Stream stream)
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
        var (dtype, shape, shapeText) = ParseHeader(path, header, headerStart);

        var (size, allocate) = DTypes[dtype];
        if (shape.Aggregate(BigInteger.One, (product, dimension) => product * dimension) * size > Array.MaxLength)
        {
            throw new DataFormatException(path, $"byte {headerStart}: shape {shapeText} holds more than one array can");
        }
        int count = (int)shape.Aggregate(1L, (product, dimension) => product * dimension);
        var data = allocate(count);
        // .NET runs little-endian, as the file is: the bytes go straight into the array.
        var bytes = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(data), count * size);
        Fill(path, stream, bytes, headerStart + headerLength, $"the data (shape {shapeText} of {dtype})");
        return new NpyArray(path, dtype, shape, data);
    }

    /// <summary>Fills <paramref name="buffer"/> from the stream, which is at byte <paramref name="offset"/> of the file.</summary>
    private static void Fill(string path, Stream stream, Span<byte> buffer, long offset, string what)
    {
        int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read < buffer.Length)
        {
            throw new DataFormatException(path, $"truncated at byte {offset + read}: {what} runs to byte {offset + buffer.Length}");
        }
    }

    /// <summary>The dtype and shape from a header such as {'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }.</summary>
    private static (string DType, long[] Shape, string ShapeText) ParseHeader(string path, string header, long offset)
    {
        if (DescrPattern().Match(header) is not { Success: true } descr)
        {
            throw new DataFormatException(path, $"byte {offset}: the header has no dtype string (structured arrays are not supported)");
        }
        string dtype = descr.Groups[1].Value;
        if (!DTypes.ContainsKey(dtype))
        {
            throw new DataFormatException(path, $"byte {offset}: dtype '{dtype}' is not supported (only {string.Join(" ", DTypes.Keys)}, little-endian)");
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
        return (dtype, parsed, $"({shape.Groups[1].Value})");
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranOrderPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}

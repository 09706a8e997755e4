using System.Runtime.InteropServices;
using static TorchSharp.torch;
using Dtrain.Contracts.Storage;

namespace Dtrain.Models.Data;

/// <summary>
/// A whole array from a NumPy .npy file (<see cref="NpyHeader"/>; gzipped when the name ends .gz) of dtype &lt;f4,
/// &lt;f8, &lt;i4, &lt;i8, |u1 or |b1: what np.save writes for the usual feature and label arrays.
/// </summary>
public sealed class NpyArray
{
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
        var header = NpyHeader.Read(path, stream, DTypes.Keys);
        var (size, allocate) = DTypes[header.DType];
        int count = header.ElementCount(path, size);
        var data = allocate(count);
        // .NET runs little-endian, as the file is: the bytes go straight into the array.
        var bytes = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(data), count * size);
        NpyHeader.Fill(path, stream, bytes, header.DataOffset, $"the data (shape {header.ShapeText} of {header.DType})");
        return new NpyArray(path, header.DType, header.Shape, data);
    }
}

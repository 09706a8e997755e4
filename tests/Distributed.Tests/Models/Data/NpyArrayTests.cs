using Dtrain.Models.Data;
using Dtrain.Tests.Graph;
using static TorchSharp.torch;
using Dtrain.Contracts.Storage;

namespace Dtrain.Tests.Models.Data;

/// <summary>Reads .npy files that NumPy itself wrote (Npy/make_golden.py), and broken copies of them.</summary>
public sealed class NpyArrayTests : IDisposable
{
    private readonly TempDirectory directory = new();

    public void Dispose() => directory.Dispose();

    [Fact]
    public void Reads_float32_from_a_version_1_file()
    {
        var array = NpyArray.Read(Golden("f4_v1.npy"));

        Assert.Equal("<f4", array.DType);
        Assert.Equal([2L, 3L], array.Shape);
        Assert.Equal([1.5f, -2f, 3.25f, 0f, 1e-3f, 65504f], Assert.IsType<float[]>(array.Data));
        var tensor = array.ToTensor();
        Assert.Equal(ScalarType.Float32, tensor.dtype);
        Assert.Equal([2L, 3L], tensor.shape);
        Assert.Equal(-2f, tensor[0, 1].item<float>());
    }

    [Fact]
    public void Reads_the_longer_header_of_version_2_and_the_utf8_header_of_version_3()
    {
        Assert.Equal([0, 0.5, 1, 1.5], Assert.IsType<double[]>(NpyArray.Read(Golden("f8_v2.npy")).Data));
        Assert.Equal([-1, 0, int.MaxValue], Assert.IsType<int[]>(NpyArray.Read(Golden("i4_v3.npy")).Data));
    }

    [Fact]
    public void Reads_every_supported_dtype_into_its_own_element_type()
    {
        var longs = NpyArray.Read(Golden("i8.npy"));
        Assert.Equal([2L, 1L], longs.Shape);
        Assert.Equal([-(1L << 40), 7L], Assert.IsType<long[]>(longs.Data));
        Assert.Equal(ScalarType.Int64, longs.ToTensor().dtype);
        var bytes = NpyArray.Read(Golden("u1.npy"));
        Assert.Equal([0, 255, 16], Assert.IsType<byte[]>(bytes.Data));
        Assert.Equal(ScalarType.Byte, bytes.ToTensor().dtype);
        var bools = NpyArray.Read(Golden("b1.npy"));
        Assert.Equal([true, false, true], Assert.IsType<bool[]>(bools.Data));
        Assert.Equal(ScalarType.Bool, bools.ToTensor().dtype);

        var scalar = NpyArray.Read(Golden("scalar.npy"));
        Assert.Empty(scalar.Shape);
        Assert.Equal(2.5f, scalar.ToTensor().item<float>());
    }

    [Theory]
    [InlineData("fortran.npy", "byte 10: Fortran-order arrays are not supported (save np.ascontiguousarray(a))")]
    [InlineData("big_endian.npy", "byte 10: dtype '>i4' is not supported (only <f4 <f8 <i4 <i8 |u1 |b1, little-endian)")]
    [InlineData("object.npy", "byte 10: dtype '|O' is not supported (only <f4 <f8 <i4 <i8 |u1 |b1, little-endian)")]
    public void Refuses_what_it_would_have_to_guess_at(string name, string problem)
    {
        string path = Golden(name);
        Assert.Equal($"{path}: {problem}", Assert.Throws<DataFormatException>(() => NpyArray.Read(path)).Message);
    }

    [Theory]
    [InlineData(140, "truncated at byte 140: the data (shape (2, 3) of <f4) runs to byte 152")]
    [InlineData(50, "truncated at byte 50: the header runs to byte 128")]
    [InlineData(9, "truncated at byte 9: the preamble runs to byte 10")]
    [InlineData(0, "the file is empty")]
    public void Names_the_byte_where_a_truncated_file_ends(int length, string problem)
    {
        string path = directory.File("cut.npy");
        File.WriteAllBytes(path, File.ReadAllBytes(Golden("f4_v1.npy"))[..length]);
        Assert.Equal($"{path}: {problem}", Assert.Throws<DataFormatException>(() => NpyArray.Read(path)).Message);
    }

    [Fact]
    public void Names_a_file_that_is_not_npy_or_of_a_later_version()
    {
        string text = directory.File("text.npy");
        File.WriteAllText(text, "x,y\n1,2\n");
        Assert.Equal($"{text}: byte 0: not a .npy file (it does not start with \\x93NUMPY)", Assert.Throws<DataFormatException>(() => NpyArray.Read(text)).Message);

        string future = directory.File("v4.npy");
        byte[] bytes = File.ReadAllBytes(Golden("f4_v1.npy"));
        bytes[6] = 4;
        File.WriteAllBytes(future, bytes);
        Assert.Equal($"{future}: byte 6: .npy format version 4.0 is not supported (1 to 3 are)", Assert.Throws<DataFormatException>(() => NpyArray.Read(future)).Message);
    }

    private static string Golden(string name) => RepositoryFiles.PathOf($"tests/Distributed.Tests/Models/Data/Npy/{name}");
}

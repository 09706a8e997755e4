using System.IO.Compression;
using System.Text;
using Dtrain.Models.Data;
using Dtrain.Tests.Graph;
using static TorchSharp.torch;
using Dtrain.Contracts.Storage;

namespace Dtrain.Tests.Models.Data;

public sealed class CsvTableTests : IDisposable
{
    private readonly TempDirectory directory = new();

    public void Dispose() => directory.Dispose();

    [Fact]
    public void Reads_a_csv_with_a_header_and_integer_labels_in_the_last_column()
    {
        var table = CsvTable.Read(Write("plain.csv", "x,y,label\n1.5,-2,0\n3e2,0.25,2\n"));

        Assert.Equal((2, 2, 3), (table.Rows, table.Features, table.Classes));
        Assert.Equal([1.5f, -2f, 300f, 0.25f], table.FeatureValues.ToArray());
        Assert.Equal([0L, 2L], table.Labels.ToArray());
        Assert.Equal(["x", "y"], table.FeatureNames);
        Assert.Equal("label", table.LabelName);
        Assert.Null(table.ClassNames);
    }

    [Fact]
    public void Reads_a_gzipped_tsv_without_a_header_whose_string_labels_come_first()
    {
        string path = directory.File("pets.tsv.gz");
        using (var gzip = new GZipStream(File.Create(path), CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes("\"cat\"\t1\t2\r\ndog\t 3 \t4\r\n\r\ncat\t5\t6\r\n"));
        }

        var table = CsvTable.Read(path, new CsvOptions(LabelIndex: 0));

        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], table.FeatureValues.ToArray());
        Assert.Equal([0L, 1L, 0L], table.Labels.ToArray());
        Assert.Equal(["cat", "dog"], table.ClassNames);
        Assert.Equal(2, table.Classes);
        Assert.Null(table.FeatureNames);
    }

    [Fact]
    public void Numbers_string_labels_in_sorted_order_and_finds_a_label_column_by_name()
    {
        var table = CsvTable.Read(Write("iris.csv", "a;species;b\n1;setosa;2\n3;virginica;4\n5;versicolor;6\n"), new CsvOptions(LabelName: "species"));

        Assert.Equal(["setosa", "versicolor", "virginica"], table.ClassNames);
        Assert.Equal([0L, 2L, 1L], table.Labels.ToArray());
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], table.FeatureValues.ToArray());
        Assert.Equal(["a", "b"], table.FeatureNames);
    }

    [Fact]
    public void Takes_a_header_of_numbers_only_when_told_to()
    {
        string path = Write("numbered.csv", "1,2,3\n4,5,6\n");

        Assert.Equal(2, CsvTable.Read(path).Rows);
        var headed = CsvTable.Read(path, new CsvOptions(Delimiter: ',', HasHeader: true));
        Assert.Equal(1, headed.Rows);
        Assert.Equal(["1", "2"], headed.FeatureNames);
    }

    [Fact]
    public void Gives_the_table_and_sampled_rows_as_float32_features_and_int64_labels()
    {
        var table = CsvTable.Read(Write("small.csv", "1,2,0\n3,4,1\n5,6,2\n"));

        var (inputs, labels) = table.ToTensors();
        Assert.Equal((ScalarType.Float32, ScalarType.Int64), (inputs.dtype, labels.dtype));
        Assert.Equal([3L, 2L], inputs.shape);
        Assert.Equal([3L], labels.shape);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], inputs.data<float>().ToArray());

        var (batch, batchLabels) = table.Batch([2, 0]);
        Assert.Equal([2L, 2L], batch.shape);
        Assert.Equal([5f, 6f, 1f, 2f], batch.data<float>().ToArray());
        Assert.Equal([2L, 0L], batchLabels.data<long>().ToArray());
    }

    [Theory]
    [InlineData("x,y,label\n1,2,0\n1,2,3,4\n", "line 3 has 4 fields, the header has 3")]
    [InlineData("\n1,2,0\n\n1,2\n", "line 4 has 2 fields, line 2 has 3")]
    [InlineData("x,y,label\n1,abc,0\n", "line 2, field 2 (\"y\"): \"abc\" is not a number")]
    [InlineData("x,y,label\n1,,0\n", "line 2, field 2 (\"y\"): \"\" is not a number")]
    [InlineData("x,y,label\n1,NaN,0\n", "line 2, field 2 (\"y\"): \"NaN\" is not a finite number")]
    [InlineData("x,y,label\n-Infinity,1,0\n", "line 2, field 1 (\"x\"): \"-Infinity\" is not a finite number")]
    [InlineData("x,y,label\n1e39,1,0\n", "line 2, field 1 (\"x\"): \"1e39\" is not a finite number")]
    [InlineData("x,y,label\n1,2,\n", "line 2: the label is empty")]
    [InlineData("x,y,label\n1,2,0\n1,2,-1\n", "line 3: label -1 is not a class id (integer labels count classes from 0)")]
    [InlineData("x,y,label\n", "line 1 is a header and no rows follow it")]
    [InlineData("", "the file is empty")]
    [InlineData("\n  \n", "the file is empty")]
    [InlineData("1\n2\n", "line 1 has 1 field, and a table needs a feature and a label (no tab, comma or semicolon separates fields)")]
    public void Names_the_file_the_line_and_the_problem_in_one_line(string content, string problem)
    {
        string path = Write("bad.csv", content);
        Assert.Equal($"{path}: {problem}", Assert.Throws<DataFormatException>(() => CsvTable.Read(path)).Message);
    }

    [Fact]
    public void Names_a_bad_field_by_position_where_there_is_no_header()
    {
        string path = Write("bad.csv", "1,abc,0\n");
        var e = Assert.Throws<DataFormatException>(() => CsvTable.Read(path, new CsvOptions(HasHeader: false)));
        Assert.Equal($"{path}: line 1, field 2: \"abc\" is not a number", e.Message);
    }

    [Fact]
    public void Names_a_missing_label_column()
    {
        string path = Write("bad.csv", "x,y,label\n1,2,0\n");

        var byName = Assert.Throws<DataFormatException>(() => CsvTable.Read(path, new CsvOptions(LabelName: "species")));
        Assert.Equal($"{path}: line 1: the header has no label column \"species\" (its columns: x, y, label)", byName.Message);
        var byIndex = Assert.Throws<DataFormatException>(() => CsvTable.Read(path, new CsvOptions(LabelIndex: 3)));
        Assert.Equal($"{path}: line 1 has 3 fields, so no label column 3 (columns count from 0)", byIndex.Message);
    }

    [Fact]
    public void Names_a_missing_file_and_corrupt_gzip()
    {
        string missing = directory.File("absent.csv");
        Assert.Equal($"{missing}: no such file", Assert.Throws<DataFormatException>(() => CsvTable.Read(missing)).Message);

        string corrupt = Write("corrupt.csv.gz", "x,y,label\n1,2,0\n");
        Assert.StartsWith($"{corrupt}: is not valid gzip data (", Assert.Throws<DataFormatException>(() => CsvTable.Read(corrupt)).Message);
    }

    [Fact]
    public void Refuses_options_that_contradict_each_other()
    {
        string path = Write("plain.csv", "x,y,label\n1,2,0\n");
        Assert.Throws<ArgumentException>(() => CsvTable.Read(path, new CsvOptions(LabelName: "label", LabelIndex: 2)));
        Assert.Throws<ArgumentException>(() => CsvTable.Read(path, new CsvOptions(HasHeader: false, LabelName: "label")));
        Assert.Throws<ArgumentOutOfRangeException>(() => CsvTable.Read(path, new CsvOptions(LabelIndex: -1)));
    }

    private string Write(string name, string content)
    {
        string path = directory.File(name);
        File.WriteAllText(path, content);
        return path;
    }
}

using System.Globalization;
using System.Text.RegularExpressions;
using Dtrain.Launcher;
using Dtrain.Launcher.Bench;

namespace Dtrain.Tests.Launcher;

public class BenchTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData("inproc", "all_reduce", 3)]
    [InlineData("grpc", "all_reduce", 2)]
    [InlineData("grpc", "all_gather", 3)]
    public async Task Prints_a_row_per_size_with_positive_bandwidths(string transport, string op, int ranks)
    {
        var (code, stdout, stderr) = await DtrainProcess.RunAsync(Limit,
            "bench", "collectives", "--transport", transport, "--op", op, "--ranks", ranks.ToString(), "--sizes", "4K..16K", "--iters", "3", "--warmup", "1");

        Assert.True(code == 0, $"exit code {code}: {stderr}");
        Assert.Contains($"# dtrain bench collectives: {op} over {transport}, {ranks} ranks", stdout);
        var rows = Regex.Matches(stdout, @"^\s+(4K|8K|16K)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$", RegexOptions.Multiline);
        Assert.Equal(["4K", "8K", "16K"], rows.Select(r => r.Groups[1].Value));
        foreach (Match row in rows)
        {
            var numbers = Enumerable.Range(2, 4).Select(g => double.Parse(row.Groups[g].Value, CultureInfo.InvariantCulture)).ToArray();
            Assert.All(numbers, n => Assert.True(n > 0, row.Value));
            // busbw = algbw x 2(n-1)/n for all_reduce, (n-1)/n for all_gather.
            Assert.Equal(numbers[1] * CollectiveBenchmark.BusFactor(op, ranks), numbers[2], numbers[2] * 2e-3);
        }
    }

    [Theory]
    [InlineData("4096", 4096)]
    [InlineData("4K", 4096)]
    [InlineData("64m", 64L << 20)]
    [InlineData("1G", 1L << 30)]
    public void Sizes_parse_with_binary_units(string text, long bytes) => Assert.Equal(bytes, ByteSizes.Parse(text));

    [Fact]
    public void A_range_doubles_from_first_to_last()
    {
        Assert.Equal([4096L, 8192, 16384], ByteSizes.ParseRange("4K..16K"));
        Assert.Throws<UsageException>(() => ByteSizes.Parse("x"));
        Assert.Throws<UsageException>(() => ByteSizes.ParseRange("16K..4K"));
    }
}

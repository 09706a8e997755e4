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
    [InlineData("grpc", "all_reduce", 2, "shm")]
    [InlineData("grpc", "all_reduce", 2, "tcp")]
    [InlineData("grpc", "all_gather", 3, "http2")]
    public async Task Prints_a_row_per_size_with_positive_bandwidths(string transport, string op, int ranks, string channel = "auto")
    {
        var (code, stdout, stderr) = await DtrainProcess.RunAsync(Limit,
            "bench", "collectives", "--transport", transport, "--data-channel", channel, "--op", op, "--ranks", ranks.ToString(), "--sizes", "4K..16K", "--iters", "3", "--warmup", "1");

        Assert.True(code == 0, $"exit code {code}: {stderr}");
        string over = transport == "grpc" ? $"grpc ({channel} data channel)" : transport;
        Assert.Contains($"# dtrain bench collectives: {op} over {over}, {ranks} ranks", stdout);
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

    /// <summary>
    /// The bytes come from the MLP 32 -> 16 -> 4 cut at max_preconditioner_dim 16: linear0.weight [16, 32] is two
    /// 16x16 blocks (256 floats, 1024 bytes each), linear0.bias 16 floats, head.weight [4, 16] 64 floats, head.bias 4
    /// floats; the last three cost 64, 256 and 64 bytes (rounded up to 64). Longest processing time first gives rank 0
    /// a 16x16 block and head.weight (320 floats), rank 1 the other 16x16 block and both biases (276 floats). The
    /// all-gather moves every rank's slot padded to the larger: 2 x 320 floats = 2560 bytes. One rank gathers nothing.
    /// </summary>
    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 2560)]
    public async Task Shampoo_prints_adamw_then_a_row_per_frequency_with_the_all_gather_bytes(int ranks, long allGatherBytes)
    {
        var (code, stdout, stderr) = await DtrainProcess.RunAsync(Limit,
            "bench", "shampoo", "--ranks", ranks.ToString(), "--width", "16", "--layers", "1", "--batch", "32",
            "--max-preconditioner-dim", "16", "--frequencies", "1,3", "--warmup", "1", "--steps", "4", "--device", "cpu");

        Assert.True(code == 0, $"exit code {code}: {stderr}");
        Assert.Contains($"# dtrain bench shampoo: {ranks} rank{(ranks == 1 ? "" : "s")} over grpc (auto data channel) on cpu", stdout);
        var rows = Regex.Matches(stdout, @"^\s+(adamw|shampoo)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s*$", RegexOptions.Multiline)
            .Select(r => r.Groups.Values.Skip(1).Select(g => g.Value).ToArray())
            .ToArray();
        Assert.Equal(["adamw", "shampoo", "shampoo"], rows.Select(r => r[0]));
        Assert.Equal(["-", "1", "3"], rows.Select(r => r[1]));
        // Frequency 3: warm-up up to its start step, timed steps rounded up to whole cycles.
        Assert.Equal(["1", "1", "3"], rows.Select(r => r[2]));
        Assert.Equal(["4", "4", "6"], rows.Select(r => r[3]));
        Assert.Equal([0, allGatherBytes, allGatherBytes], rows.Select(r => long.Parse(r[9])));
        Assert.All(rows.SelectMany(r => r[4..9]), ms => Assert.True(double.Parse(ms, CultureInfo.InvariantCulture) > 0, ms));
        // The update is part of the step.
        Assert.All(rows, r => Assert.True(double.Parse(r[8], CultureInfo.InvariantCulture) < double.Parse(r[4], CultureInfo.InvariantCulture), string.Join(' ', r)));
        Assert.Equal(["1.00", "1.00"], rows[0][6..8]);
    }

    /// <summary>`bench overhead`'s one row: framework, model, device, ranks, parameters, then the numbers.</summary>
    private static async Task<string[]> OverheadRowAsync(params string[] arguments)
    {
        var (code, stdout, stderr) = await DtrainProcess.RunAsync(Limit, ["bench", "overhead", "--device", "cpu", "--warmup", "1", .. arguments]);
        Assert.True(code == 0, $"exit code {code}: {stderr}");
        var rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(line => !line.StartsWith('#')).ToArray();
        Assert.True(rows.Length == 1, stdout);
        var row = rows[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(12, row.Length);
        Assert.Equal("dtrain", row[0]);
        return row;
    }

    private static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    /// <summary>The parameter count bench/overhead.sh compares with PyTorch's, counted by hand; the loss falls from about ln 64.</summary>
    [Fact]
    public async Task Overhead_trains_the_transformer_lm_and_prints_its_parameter_count()
    {
        var row = await OverheadRowAsync("--model", "transformer-lm", "--width", "32", "--layers", "2", "--heads", "4", "--context", "16",
            "--vocabulary", "64", "--batch", "8", "--steps", "40");

        (long v, long t, long d, long layers) = (64, 16, 32, 2);
        Assert.Equal(v * d + t * d + layers * (12 * d * d + 13 * d) + 2 * d + d * v + v, long.Parse(row[4]));
        Assert.Equal(["transformer-lm", "cpu", "1"], row[1..4]);
        Assert.InRange(Number(row[10]), 3.8, 4.6);
        Assert.True(Number(row[11]) < Number(row[10]) - 0.5, $"loss {row[10]} -> {row[11]}");
        // One rank has nothing to average: what is timed is a call that returns at once (on a loaded machine a
        // pause can still land in it, hence a bound rather than zero).
        Assert.InRange(Number(row[9]), 0, 0.05);
    }

    /// <summary>Two ranks over gRPC average their gradients: that takes a share of the step, and samples/s counts both ranks.</summary>
    [Fact]
    public async Task Overhead_over_two_ranks_reports_the_share_of_the_step_spent_averaging_gradients()
    {
        var row = await OverheadRowAsync("--model", "mlp", "--ranks", "2", "--width", "64", "--layers", "2", "--batch", "16", "--steps", "10");

        Assert.Equal(["mlp", "cpu", "2"], row[1..4]);
        Assert.Equal(32 * 64 + 64 + 64 * 64 + 64 + 64 * 4 + 4, long.Parse(row[4]));
        double median = Number(row[5]), samplesPerSecond = Number(row[7]), sync = Number(row[8]), share = Number(row[9]);
        Assert.Equal(2 * 16 / (median / 1e3), samplesPerSecond, samplesPerSecond * 0.01);
        Assert.True(sync > 0 && sync < median, $"sync {sync} ms of a {median} ms step");
        Assert.InRange(share, 0.001, 0.999);
    }

    [Fact]
    public async Task Sampler_prints_the_anchor_and_both_two_partition_rows()
    {
        var (code, stdout, stderr) = await DtrainProcess.RunAsync(Limit,
            "bench", "sampler", "--scale", "12", "--edges", "50000", "--batch", "64", "--batches", "2", "--warmup", "1");

        Assert.True(code == 0, $"exit code {code}: {stderr}");
        Assert.Contains("# dtrain bench sampler: R-MAT scale 12 (4096 nodes", stdout);
        var rows = Regex.Matches(stdout, @"^\s+(\d+)\s+(\d+)((\s+\S+){12})\s*$", RegexOptions.Multiline);
        Assert.Equal(["1 1", "2 1", "2 2"], rows.Select(r => $"{r.Groups[1].Value} {r.Groups[2].Value}"));
        var numbers = rows.Select(r => r.Groups[3].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(n => double.Parse(n, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.All(numbers, row => Assert.True(row[1] > 0 && row[4] > 0, string.Join(" ", row))); // edges/s and edges per batch
        // vs_1part is each row's edges/s over the anchor's; all three are printed to 2 decimals, so within their rounding.
        const double Half = 0.005;
        Assert.All(numbers[1..], row => Assert.InRange(row[2], (row[1] - Half) / (numbers[0][1] + Half) - Half, (row[1] + Half) / (numbers[0][1] - Half) + Half));
        Assert.Equal(0, numbers[0][7]); // one partition fetches nothing remotely...
        Assert.Equal(0, numbers[0][9]);
        Assert.All(numbers[1..], row => Assert.True(row[7] > 0 && row[9] > 0, string.Join(" ", row))); // ...two do
        // The verdict is the anchor's rate against the 5 M/s target.
        var verdict = Regex.Match(stdout, @"# target >= 5 M sampled edges/s locally \(1 partition\): (met|not met) at ([0-9.]+) M/s");
        Assert.True(verdict.Success, stdout);
        Assert.Equal(numbers[0][1], double.Parse(verdict.Groups[2].Value, CultureInfo.InvariantCulture));
        Assert.Equal(numbers[0][1] >= 5 ? "met" : "not met", verdict.Groups[1].Value);
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

using System.Text;
using Dtrain.Models.Data;
using Dtrain.Tests.Graph;
using static TorchSharp.torch;
using Dtrain.Contracts.Storage;

namespace Dtrain.Tests.Models.Data;

public sealed class TextCorpusTests : IDisposable
{
    private readonly TempDirectory directory = new();

    public void Dispose() => directory.Dispose();

    [Fact]
    public void Holds_out_the_last_fraction_of_each_file_as_bytes()
    {
        Write("a.txt", "héllo wörld");  // 13 bytes of UTF-8: 11 letters, two of them 2 bytes long
        Write("b.txt", "0123456789");

        var corpus = TextCorpus.Read(directory.Path, heldOutFraction: 0.2);

        Assert.Equal([directory.File("a.txt"), directory.File("b.txt")], corpus.Files);
        Assert.Equal("héllo wör01234567"u8.ToArray(), corpus.Train.Tokens.ToArray());
        Assert.Equal("ld89"u8.ToArray(), corpus.HeldOut.Tokens.ToArray());
    }

    [Fact]
    public void Reads_listed_files_in_the_order_given()
    {
        Write("a.txt", "aaaa");
        Write("b.txt", "bbbb");

        var corpus = TextCorpus.Read([directory.File("b.txt"), directory.File("a.txt")], heldOutFraction: 0.25);

        Assert.Equal("bbbaaa"u8.ToArray(), corpus.Train.Tokens.ToArray());
        Assert.Equal("ba"u8.ToArray(), corpus.HeldOut.Tokens.ToArray());
    }

    [Fact]
    public void Unigram_entropy_is_the_held_out_cross_entropy_under_add_one_smoothed_training_counts()
    {
        Write("ab.txt", "aabab");

        var corpus = TextCorpus.Read(directory.File("ab.txt"), heldOutFraction: 0.4);

        // Training "aab", held out "ab": p(a) = (2 + 1) / (3 + 256), p(b) = (1 + 1) / (3 + 256).
        double expected = -(Math.Log(3.0 / 259) + Math.Log(2.0 / 259)) / 2;
        Assert.Equal(expected, corpus.UnigramEntropy(), precision: 12);
    }

    [Fact]
    public void A_batch_is_windows_of_the_stream_and_the_tokens_after_them()
    {
        // Byte i is i, so each window shows where it starts.
        File.WriteAllBytes(directory.File("counting.bin"), [.. Enumerable.Range(0, 200).Select(i => (byte)i)]);
        var train = TextCorpus.Read(directory.Path, heldOutFraction: 0).Train;

        var (inputs, targets) = train.Batch(seed: 7, step: 3, rank: 1, batchSize: 4, length: 5);

        Assert.Equal(ScalarType.Int64, inputs.dtype);
        Assert.Equal([4L, 5L], inputs.shape);
        Assert.Equal([4L, 5L], targets.shape);
        for (int row = 0; row < 4; row++)
        {
            long offset = inputs[row, 0].item<long>();
            Assert.InRange(offset, 0, 200 - 6);
            Assert.Equal([offset, offset + 1, offset + 2, offset + 3, offset + 4], inputs[row].data<long>().ToArray());
            Assert.Equal([offset + 1, offset + 2, offset + 3, offset + 4, offset + 5], targets[row].data<long>().ToArray());
        }
    }

    [Fact]
    public void A_batch_depends_on_seed_step_and_rank_alone_and_ranks_split_one_wider_batch()
    {
        Write("text.txt", string.Concat(Enumerable.Range(0, 5000).Select(i => (char)(' ' + i * 7919 % 95))));
        var train = TextCorpus.Read(directory.Path, heldOutFraction: 0).Train;

        long[] Inputs(long seed, long step, int rank, int batchSize) => train.Batch(seed, step, rank, batchSize, length: 8).Inputs.data<long>().ToArray();

        long[] once = Inputs(seed: 1, step: 9, rank: 0, batchSize: 6);
        Assert.Equal(once, Inputs(seed: 1, step: 9, rank: 0, batchSize: 6));
        Assert.NotEqual(once, Inputs(seed: 1, step: 10, rank: 0, batchSize: 6));
        Assert.NotEqual(once, Inputs(seed: 2, step: 9, rank: 0, batchSize: 6));
        Assert.Equal(once, Enumerable.Range(0, 3).SelectMany(rank => Inputs(seed: 1, step: 9, rank, batchSize: 2)));
    }

    [Fact]
    public void Refuses_a_window_longer_than_the_stream()
    {
        Write("short.txt", "abcde");
        var train = TextCorpus.Read(directory.Path, heldOutFraction: 0).Train;
        var e = Assert.Throws<ArgumentException>(() => train.Batch(seed: 1, step: 0, rank: 0, batchSize: 1, length: 5));
        Assert.Equal("a window of 5 tokens and the token after it needs 6 tokens, and the stream has 5", e.Message);
    }

    [Fact]
    public void Names_an_empty_or_missing_file()
    {
        Write("empty.txt", "");
        string empty = directory.File("empty.txt"), missing = directory.File("absent.txt");
        Assert.Equal($"{empty}: the file is empty", Assert.Throws<DataFormatException>(() => TextCorpus.Read(empty)).Message);
        Assert.Equal($"{missing}: no such file", Assert.Throws<DataFormatException>(() => TextCorpus.Read(missing)).Message);
    }

    private void Write(string name, string content) => File.WriteAllText(directory.File(name), content, new UTF8Encoding(false));
}

using Dtrain.Contracts.Storage;

namespace Dtrain.Models.Data;

/// <summary>
/// Text files as byte-level tokens (a vocabulary of 256: UTF-8 or any other encoding is taken as its bytes, so no
/// file is refused for its encoding), split into a training and a held-out part. The held-out part is the last
/// fraction of each file, not of the concatenation: every file (a fortune category, a book) then lies in both
/// parts, so the held-out loss measures the kind of text the model trained on, not the last file's.
/// </summary>
public sealed class TextCorpus
{
    public const int Vocabulary = 256;

    private TextCorpus(IReadOnlyList<string> files, TokenStream train, TokenStream heldOut) =>
        (Files, Train, HeldOut) = (files, train, heldOut);

    /// <summary>The files read, in the order their parts are concatenated.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The first (1 - held-out fraction) of each file, one after another.</summary>
    public TokenStream Train { get; }

    /// <summary>The last held-out fraction of each file, one after another.</summary>
    public TokenStream HeldOut { get; }

    /// <summary>Reads a file, or every file beneath a directory (in ordinal order of their paths).</summary>
    public static TextCorpus Read(string path, double heldOutFraction = 0.1) => Read([path], heldOutFraction);

    /// <summary>Reads files and directories; an empty or missing file throws a <see cref="DataFormatException"/>.</summary>
    public static TextCorpus Read(IEnumerable<string> paths, double heldOutFraction = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(heldOutFraction);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(heldOutFraction, 1.0);
        string[] files = [.. paths.SelectMany(FilesAt)];
        if (files.Length == 0) throw new ArgumentException("no files to read: the paths name only empty directories");
        var train = new MemoryStream();
        var heldOut = new MemoryStream();
        foreach (string file in files)
        {
            byte[] bytes = DataFile.Read(file, stream =>
            {
                var copy = new MemoryStream();
                stream.CopyTo(copy);
                return copy.ToArray();
            });
            if (bytes.Length == 0) throw new DataFormatException(file, "the file is empty");
            int trainLength = bytes.Length - (int)(bytes.Length * heldOutFraction);
            train.Write(bytes, 0, trainLength);
            heldOut.Write(bytes, trainLength, bytes.Length - trainLength);
        }
        return new TextCorpus(files, new TokenStream(train.ToArray()), new TokenStream(heldOut.ToArray()));
    }

    /// <summary>
    /// The cross-entropy of the held-out bytes, in nats per byte, under the training part's byte frequencies with
    /// add-one smoothing: the loss a model that ignores context reaches, which a language model must beat.
    /// </summary>
    public double UnigramEntropy()
    {
        if (HeldOut.Length == 0) throw new InvalidOperationException("the corpus has no held-out part (the held-out fraction is 0)");
        var trainCounts = Counts(Train.Tokens);
        var heldOutCounts = Counts(HeldOut.Tokens);
        double total = Train.Length + Vocabulary, nats = 0;
        for (int token = 0; token < Vocabulary; token++)
        {
            nats -= heldOutCounts[token] * Math.Log((trainCounts[token] + 1) / total);
        }
        return nats / HeldOut.Length;
    }

    private static IEnumerable<string> FilesAt(string path) => Directory.Exists(path)
        ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
        : [path];

    private static long[] Counts(ReadOnlySpan<byte> tokens)
    {
        var counts = new long[Vocabulary];
        foreach (byte token in tokens) counts[token]++;
        return counts;
    }
}

using Dtrain.Contracts.Randomness;
using static TorchSharp.torch;

namespace Dtrain.Models.Data;

/// <summary>A sequence of token ids (bytes of text) that a language model trains on in windows at random offsets.</summary>
public sealed class TokenStream(byte[] tokens)
{
    private const long WindowStream = 6;

    public ReadOnlySpan<byte> Tokens => tokens;

    public int Length => tokens.Length;

    /// <summary>
    /// <paramref name="batchSize"/> windows of <paramref name="length"/> tokens at seeded random offsets, as [B, T]
    /// int64 inputs and the [B, T] next tokens to predict (the same windows one token on). A pure function of
    /// (seed, step, rank): rank r's rows are rows r·B to r·B + B - 1 of one step-wide draw, so n ranks together see
    /// exactly the windows one process with an n-times larger batch would, and a rerun sees them again.
    /// </summary>
    public (Tensor Inputs, Tensor Targets) Batch(long seed, long step, int rank, int batchSize, int length, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        if (Length <= length)
        {
            throw new ArgumentException($"a window of {length} tokens and the token after it needs {length + 1} tokens, and the stream has {Length}");
        }
        var inputs = new long[batchSize * length];
        var targets = new long[batchSize * length];
        long stepKey = (long)CounterRandom.Key(seed, WindowStream, step);
        for (int row = 0; row < batchSize; row++)
        {
            var random = new CounterRandom(CounterRandom.Key(stepKey, WindowStream, (long)rank * batchSize + row));
            int offset = (int)(random.NextUInt64() % (ulong)(Length - length));
            for (int position = 0; position < length; position++)
            {
                inputs[row * length + position] = tokens[offset + position];
                targets[row * length + position] = tokens[offset + position + 1];
            }
        }
        return (tensor(inputs, [batchSize, length], device: device), tensor(targets, [batchSize, length], device: device));
    }
}

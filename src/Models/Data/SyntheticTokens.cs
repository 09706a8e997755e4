using Dtrain.Contracts.Randomness;
using static TorchSharp.torch;

namespace Dtrain.Models.Data;

/// <summary>
/// Generated token sequences for a language model: a seeded Markov chain over <see cref="Vocabulary"/> tokens in
/// which every token has <see cref="Successors"/> possible next tokens, each equally likely. A model that learns
/// the chain's table reaches a cross-entropy of ln(<see cref="Successors"/>), down from about ln(<see cref="Vocabulary"/>)
/// untrained. Sequence i is a pure function of (seed, i). bench/overhead.py generates the same sequences.
/// </summary>
public sealed class SyntheticTokens
{
    private const long TableStream = 4, SequenceStream = 5;
    private readonly long seed;
    private readonly long[,] next;

    public SyntheticTokens(long seed, int vocabulary = 256, int successors = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabulary, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(successors, 1);
        (this.seed, Vocabulary, Successors) = (seed, vocabulary, successors);
        next = new long[vocabulary, successors];
        for (int token = 0; token < vocabulary; token++)
        {
            var random = new CounterRandom(CounterRandom.Key(seed, TableStream, token));
            for (int choice = 0; choice < successors; choice++) next[token, choice] = random.NextInt(vocabulary);
        }
    }

    public int Vocabulary { get; }

    public int Successors { get; }

    /// <summary>The token that follows <paramref name="token"/> on <paramref name="choice"/> (0 to Successors - 1).</summary>
    public long Next(long token, int choice) => next[token, choice];

    /// <summary>
    /// The sequences at <paramref name="indices"/>, <paramref name="length"/> + 1 tokens each, as [n, length] int64
    /// inputs and the [n, length] next tokens to predict (the inputs shifted by one).
    /// </summary>
    public (Tensor Inputs, Tensor Targets) Batch(ReadOnlySpan<long> indices, int length, Device device)
    {
        var inputs = new long[indices.Length * length];
        var targets = new long[indices.Length * length];
        for (int row = 0; row < indices.Length; row++)
        {
            var random = new CounterRandom(CounterRandom.Key(seed, SequenceStream, indices[row]));
            long token = random.NextInt(Vocabulary);
            for (int position = 0; position < length; position++)
            {
                inputs[row * length + position] = token;
                token = next[token, random.NextInt(Successors)];
                targets[row * length + position] = token;
            }
        }
        return (tensor(inputs, [indices.Length, length], device: device), tensor(targets, [indices.Length, length], device: device));
    }
}

using Dtrain.Graph.Storage;

namespace Dtrain.Graph.Generators;

/// <summary>
/// The shares of nodes in the train, validation and test sets; they sum to at most 1 and the rest of the nodes
/// are in no set (<see cref="NodeSplit.None"/>).
/// </summary>
public sealed record SplitFractions(double Train, double Validation, double Test)
{
    internal void Validate(string kind)
    {
        OptionCheck.Require(Train is >= 0 and <= 1, kind, "train", Train, "is outside [0, 1]");
        OptionCheck.Require(Validation is >= 0 and <= 1, kind, "val", Validation, "is outside [0, 1]");
        OptionCheck.Require(Test is >= 0 and <= 1, kind, "test", Test, "is outside [0, 1]");
        // A little slack so that 0.7 + 0.2 + 0.1, which is 1.0000000000000002 in doubles, is accepted.
        OptionCheck.Require(Train + Validation + Test <= 1 + 1e-9, kind, "train + val + test", Train + Validation + Test, "exceeds 1");
    }

    /// <summary>
    /// Each node's set: the counts are exactly the fractions of <paramref name="nodeCount"/> (rounded down), and
    /// which nodes fall in which set is a seeded random permutation, so the sets are uncorrelated with node IDs.
    /// </summary>
    internal NodeSplit[] Assign(int nodeCount, long seed)
    {
        var order = SeededPermutation.Create(nodeCount, seed, RandomStreams.Split);
        int train = (int)(Train * nodeCount), validation = (int)(Validation * nodeCount);
        int test = Math.Min((int)(Test * nodeCount), nodeCount - train - validation);
        var split = new NodeSplit[nodeCount];
        for (int i = 0; i < train + validation + test; i++)
        {
            split[order[i]] = i < train ? NodeSplit.Train : i < train + validation ? NodeSplit.Validation : NodeSplit.Test;
        }
        return split;
    }
}

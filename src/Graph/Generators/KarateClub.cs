using Dtrain.Graph.Storage;

namespace Dtrain.Graph.Generators;

/// <summary>
/// Zachary's karate club (W. W. Zachary, "An information flow model for conflict and fission in small groups",
/// J. Anthropological Research 33, 1977): 34 members, 78 friendships, undirected. Node IDs are 0-based as in
/// networkx's karate_club_graph; labels are the factions after the split as its 'club' attribute records them:
/// 0 = Mr. Hi (node 0, the instructor), 1 = Officer (node 33, the club's administrator), 17 members each.
/// Features are one-hot node identities (34-dim), as in Kipf and Welling's semi-supervised GCN example. Only the
/// two leaders are training nodes (one per class, the classic semi-supervised setting); the other 32 are test nodes.
/// </summary>
public static class KarateClub
{
    internal const string Kind = "karate";

    public const int NodeCount = 34;

    /// <summary>For each node, its friends with higher IDs (so every edge is listed once).</summary>
    private static readonly int[][] HigherFriends =
    [
        /* 0 */ [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 17, 19, 21, 31],
        /* 1 */ [2, 3, 7, 13, 17, 19, 21, 30],
        /* 2 */ [3, 7, 8, 9, 13, 27, 28, 32],
        /* 3 */ [7, 12, 13],
        /* 4 */ [6, 10],
        /* 5 */ [6, 10, 16],
        /* 6 */ [16],
        /* 7 */ [],
        /* 8 */ [30, 32, 33],
        /* 9 */ [33],
        /* 10 */ [],
        /* 11 */ [],
        /* 12 */ [],
        /* 13 */ [33],
        /* 14 */ [32, 33],
        /* 15 */ [32, 33],
        /* 16 */ [],
        /* 17 */ [],
        /* 18 */ [32, 33],
        /* 19 */ [33],
        /* 20 */ [32, 33],
        /* 21 */ [],
        /* 22 */ [32, 33],
        /* 23 */ [25, 27, 29, 32, 33],
        /* 24 */ [25, 27, 31],
        /* 25 */ [31],
        /* 26 */ [29, 33],
        /* 27 */ [33],
        /* 28 */ [31, 33],
        /* 29 */ [32, 33],
        /* 30 */ [32, 33],
        /* 31 */ [32, 33],
        /* 32 */ [33],
        /* 33 */ [],
    ];

    /// <summary>The members who sided with the Officer; everyone else stayed with Mr. Hi.</summary>
    private static readonly int[] OfficerFaction = [9, 14, 15, 18, 20, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33];

    public static GraphData Generate()
    {
        var sources = new List<int>();
        var destinations = new List<int>();
        for (int v = 0; v < NodeCount; v++)
        {
            foreach (int u in HigherFriends[v])
            {
                sources.Add(v);
                destinations.Add(u);
            }
        }
        var (offsets, inSources, _) = GraphBuilder.ToCsc(NodeCount, sources.ToArray(), destinations.ToArray(), undirected: true);

        var features = new float[NodeCount * NodeCount];
        for (int v = 0; v < NodeCount; v++) features[v * NodeCount + v] = 1;
        var labels = new int[NodeCount];
        foreach (int v in OfficerFaction) labels[v] = 1;
        var split = Enumerable.Repeat(NodeSplit.Test, NodeCount).ToArray();
        split[0] = split[NodeCount - 1] = NodeSplit.Train;
        return new GraphData(offsets, inSources, null, NodeCount, features, 2, labels, split);
    }
}

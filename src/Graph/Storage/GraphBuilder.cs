namespace Dtrain.Graph.Storage;

/// <summary>Turns an edge list into CSC in-neighbour lists: grouped by destination, sorted, duplicates and self-loops dropped.</summary>
public static class GraphBuilder
{
    /// <param name="nodeCount">Nodes are 0 .. nodeCount - 1.</param>
    /// <param name="sources">Edge sources.</param>
    /// <param name="destinations">Edge destinations, aligned with <paramref name="sources"/>.</param>
    /// <param name="weights">Optional edge weights; of duplicate edges, one's weight is kept.</param>
    /// <param name="undirected">Adds every edge in the other direction too.</param>
    public static (int[] Offsets, int[] Sources, float[]? Weights) ToCsc(
        int nodeCount, ReadOnlySpan<int> sources, ReadOnlySpan<int> destinations, ReadOnlySpan<float> weights = default, bool undirected = false)
    {
        if (sources.Length != destinations.Length) throw new ArgumentException("sources and destinations differ in length");
        bool weighted = !weights.IsEmpty;
        if (weighted && weights.Length != sources.Length) throw new ArgumentException("weights and edges differ in length");

        // Counting sort by destination.
        var counts = new int[nodeCount + 1];
        for (int e = 0; e < sources.Length; e++)
        {
            counts[destinations[e] + 1]++;
            if (undirected) counts[sources[e] + 1]++;
        }
        for (int v = 0; v < nodeCount; v++) counts[v + 1] += counts[v];
        int total = counts[nodeCount];
        var grouped = new int[total];
        var groupedWeights = weighted ? new float[total] : null;
        var next = counts.AsSpan(0, nodeCount).ToArray();
        for (int e = 0; e < sources.Length; e++)
        {
            float weight = weighted ? weights[e] : 0;
            Place(destinations[e], sources[e], weight);
            if (undirected) Place(sources[e], destinations[e], weight);
        }

        // Sort each row and drop its duplicates and self-loops in place, rows in parallel (they are disjoint); then
        // copy the kept prefixes together. Sorting is most of the time at millions of edges.
        var kept = new int[nodeCount];
        Parallel.For(0, nodeCount, v =>
        {
            int start = counts[v], end = counts[v + 1];
            var row = grouped.AsSpan(start, end - start);
            var rowWeights = weighted ? groupedWeights.AsSpan(start, end - start) : default;
            if (weighted) row.Sort(rowWeights);
            else row.Sort();
            int write = 0, previous = -1;
            for (int i = 0; i < row.Length; i++)
            {
                int u = row[i];
                if (u == previous || u == v) continue;
                row[write] = u;
                if (weighted) rowWeights[write] = rowWeights[i];
                write++;
                previous = u;
            }
            kept[v] = write;
        });
        var offsets = new int[nodeCount + 1];
        for (int v = 0; v < nodeCount; v++) offsets[v + 1] = offsets[v] + kept[v];
        var inSources = new int[offsets[nodeCount]];
        var inWeights = weighted ? new float[inSources.Length] : null;
        Parallel.For(0, nodeCount, v =>
        {
            grouped.AsSpan(counts[v], kept[v]).CopyTo(inSources.AsSpan(offsets[v]));
            if (weighted) groupedWeights.AsSpan(counts[v], kept[v]).CopyTo(inWeights.AsSpan(offsets[v]));
        });
        return (offsets, inSources, inWeights);

        void Place(int destination, int source, float weight)
        {
            int slot = next[destination]++;
            grouped[slot] = source;
            if (weighted) groupedWeights![slot] = weight;
        }
    }
}

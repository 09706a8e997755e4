using Dtrain.Contracts;
using Dtrain.Graph.Storage;

namespace Dtrain.Graph.Partitioning;

/// <summary>
/// Assigns nodes to partitions with METIS's k-way partitioner, minimising the edges cut while balancing two vertex
/// weights per node, [1, isTrainNode], as DistDGL does: each partition gets about as many nodes and about as many
/// training nodes, so trainers get equal work per epoch.
/// </summary>
public static class MetisPartitioner
{
    /// <summary>
    /// METIS 5.1 keeps its random state in process-wide globals, so two calls running at once (ranks sharing a
    /// process, as in tests) disturb each other's draws and the same seed stops giving the same partitioning.
    /// </summary>
    private static readonly Lock MetisLock = new();

    public static unsafe int[] Assign(GraphData graph, int parts, long seed)
    {
        int nodeCount = graph.NodeCount;
        var assignment = new int[nodeCount];
        // METIS 5.1 misbehaves for one part, and there is nothing to decide.
        if (parts == 1) return assignment;

        var (offsets, adjacency, _) = Symmetric(graph);
        var weights = VertexWeights(graph, out int constraints);
        var options = new int[MetisNative.OptionCount];
        int edgeCut = 0;
        int status;
        try
        {
            fixed (int* optionsPointer = options)
            {
                Check(MetisNative.SetDefaultOptions(optionsPointer));
            }
            // METIS's seed is an int; any long seed folds into one deterministically.
            options[MetisNative.OptionSeed] = (int)(seed ^ (seed >> 32)) & int.MaxValue;
            fixed (int* xadj = offsets, adjncy = adjacency, vwgt = weights, optionsPointer = options, part = assignment)
            lock (MetisLock)
            {
                status = MetisNative.PartGraphKway(&nodeCount, &constraints, xadj, adjncy, vwgt, null, null, &parts,
                    null, null, optionsPointer, &edgeCut, part);
            }
        }
        catch (DllNotFoundException)
        {
            throw new DtrainException("METIS is not installed (libmetis.so.5 not found): run scripts/setup.sh or apt-get install libmetis5");
        }
        Check(status);
        return assignment;
    }

    /// <summary>The undirected adjacency METIS needs: in- and out-neighbours of each node, without self-loops.</summary>
    private static (int[] Offsets, int[] Adjacency, float[]? Weights) Symmetric(GraphData graph)
    {
        var destinations = new int[graph.InSources.Length];
        for (int v = 0; v < graph.NodeCount; v++) destinations.AsSpan(graph.InOffsets[v], graph.InDegree(v)).Fill(v);
        return GraphBuilder.ToCsc(graph.NodeCount, graph.InSources, destinations, undirected: true);
    }

    /// <summary>
    /// [1, isTrainNode] per node, interleaved as METIS expects. Without training nodes the second weight would sum
    /// to zero, which METIS cannot normalise, so only node counts are balanced then.
    /// </summary>
    private static int[] VertexWeights(GraphData graph, out int constraints)
    {
        bool anyTraining = graph.Split.Contains(NodeSplit.Train);
        constraints = anyTraining ? 2 : 1;
        var weights = new int[graph.NodeCount * constraints];
        for (int v = 0; v < graph.NodeCount; v++)
        {
            weights[v * constraints] = 1;
            if (anyTraining) weights[v * constraints + 1] = graph.Split[v] == NodeSplit.Train ? 1 : 0;
        }
        return weights;
    }

    private static void Check(int status)
    {
        switch (status)
        {
            case MetisNative.Ok: return;
            case MetisNative.ErrorInput: throw new DtrainException("METIS rejected the graph or options as invalid input");
            case MetisNative.ErrorMemory: throw new DtrainException("METIS ran out of memory while partitioning");
            default: throw new DtrainException($"METIS failed (status {status})");
        }
    }
}

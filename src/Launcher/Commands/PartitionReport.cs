using Dtrain.Graph.Partitioning;

namespace Dtrain.Launcher.Commands;

/// <summary>The summary `dtrain graph partition` prints: per partition its sizes, then the edge cut and the time.</summary>
public static class PartitionReport
{
    public static void Print(TextWriter output, string directory, PartitionManifest manifest, TimeSpan elapsed)
    {
        output.WriteLine($"{manifest.GraphName}: {manifest.NodeCount} nodes, {manifest.EdgeCount} edges -> {manifest.PartitionCount} partitions ({manifest.Method}, seed {manifest.Seed}) in {directory}");
        output.WriteLine($"{"partition",9} {"nodes",10} {"train",10} {"edges",12} {"halo",10} {"cut edges",12}");
        for (int p = 0; p < manifest.PartitionCount; p++)
        {
            var entry = manifest.Partitions[p];
            output.WriteLine($"{p,9} {entry.NodeCount,10} {entry.TrainingNodeCount,10} {entry.EdgeCount,12} {entry.HaloNodeCount,10} {entry.CutEdgeCount,12}");
        }
        long cut = manifest.Partitions.Sum(entry => entry.CutEdgeCount);
        double fraction = manifest.EdgeCount == 0 ? 0 : (double)cut / manifest.EdgeCount;
        output.WriteLine($"edge cut: {cut} of {manifest.EdgeCount} edges ({fraction:P1}) have their source in another partition");
        output.WriteLine($"done in {elapsed.TotalSeconds:F2} s");
    }
}

using Dtrain.Graph.Storage;

namespace Dtrain.Tests.Graph.Generators;

internal static class GraphAssert
{
    /// <summary>Every array of the two graphs is equal, element by element.</summary>
    public static void Identical(GraphData expected, GraphData actual)
    {
        Assert.Equal(expected.InOffsets, actual.InOffsets);
        Assert.Equal(expected.InSources, actual.InSources);
        Assert.Equal(expected.EdgeWeights, actual.EdgeWeights);
        Assert.Equal(expected.FeatureDim, actual.FeatureDim);
        Assert.Equal(expected.Features, actual.Features);
        Assert.Equal(expected.ClassCount, actual.ClassCount);
        Assert.Equal(expected.Labels, actual.Labels);
        Assert.Equal(expected.Split, actual.Split);
    }
}

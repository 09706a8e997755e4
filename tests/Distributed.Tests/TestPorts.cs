using Dtrain.Contracts.Network;

namespace Dtrain.Tests;

internal static class TestPorts
{
    /// <summary>A port P with P + 1 free too, as the coordinator needs (gRPC on P, metrics on P + 1).</summary>
    public static int FreePair() => Ports.FindFreeRun(2);

    /// <summary>The first of <paramref name="count"/> free consecutive ports.</summary>
    public static int FreeRun(int count) => Ports.FindFreeRun(count);
}

using Dtrain.Collectives;

namespace Dtrain.Tests.Collectives;

internal static class Conformance
{
    /// <summary>Runs <paramref name="check"/> on every rank concurrently, one thread each, as separate processes would.</summary>
    public static Task OnAllRanks(IReadOnlyList<Communicator> group, Func<Communicator, Task> check) =>
        Task.WhenAll(group.Select(comm => Task.Run(() => check(comm))));
}

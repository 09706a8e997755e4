using Dtrain.Collectives;
using Dtrain.Collectives.Transports.InProcess;
using Dtrain.TensorParallel.Grid;

namespace Dtrain.Tests.TensorParallel;

/// <summary>One process grid per rank of a group, all in this process; runs a body on every rank at once.</summary>
internal sealed class Grids(ProcessGrid[] ranks) : IAsyncDisposable
{
    public static readonly CommunicatorOptions Options = new() { Timeout = TimeSpan.FromSeconds(10) };

    public IReadOnlyList<ProcessGrid> Ranks => ranks;

    public static Task<Grids> InProcessAsync(int rows, int cols, int[]? cellOwners = null) =>
        OverAsync(InProcessGroup.Create(rows * cols, Options), rows, cols, cellOwners);

    public static async Task<Grids> OverAsync(IReadOnlyList<Communicator> world, int rows, int cols, int[]? cellOwners = null) =>
        new(await Task.WhenAll(world.Select(comm => Task.Run(() => ProcessGrid.CreateAsync(comm, rows, cols, cellOwners)))));

    /// <summary>
    /// Runs <paramref name="body"/> on every rank at once, each starting on a thread of its own (CannonLinear's
    /// forward and backward block their thread until the other ranks have done their part); results in rank order.
    /// </summary>
    public Task<T[]> RunAsync<T>(Func<ProcessGrid, Task<T>> body) =>
        Task.WhenAll(ranks.Select(grid => Task.Factory.StartNew(
            () => body(grid), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()));

    public async ValueTask DisposeAsync()
    {
        foreach (var grid in ranks) await grid.DisposeAsync();
    }
}

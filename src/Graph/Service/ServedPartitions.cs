using Dtrain.Graph.Sampling;

namespace Dtrain.Graph.Service;

/// <summary>
/// The partitions this worker's sampling service answers for: those the shard map gives it in its epoch, one or
/// several. The endpoint starts before the rendezvous says which they are, so requests that arrive early wait here
/// (bounded by their deadline) until they are loaded.
/// </summary>
/// <param name="admits">Whether a presented job token admits the caller.</param>
public sealed class ServedPartitions(Func<string?, bool> admits)
{
    private volatile TaskCompletionSource<IReadOnlyDictionary<int, LocalPartition>> loaded = NewWait();

    private static TaskCompletionSource<IReadOnlyDictionary<int, LocalPartition>> NewWait() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Admits(string? presentedToken) => admits(presentedToken);

    public void Serve(IEnumerable<LocalPartition> partitions)
    {
        var byId = partitions.ToDictionary(partition => partition.PartitionId);
        if (loaded.TrySetResult(byId)) return;
        var next = NewWait();
        next.SetResult(byId);
        loaded = next;
    }

    /// <summary>
    /// The worker left its epoch: requests wait for the partitions of its next one, which may be others (the
    /// world may have shrunk or grown).
    /// </summary>
    public void Withdraw()
    {
        if (loaded.Task.IsCompleted) loaded = NewWait();
    }

    public Task<IReadOnlyDictionary<int, LocalPartition>> WhenServingAsync(CancellationToken ct) => loaded.Task.WaitAsync(ct);
}

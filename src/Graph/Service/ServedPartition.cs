using Dtrain.Graph.Sampling;

namespace Dtrain.Graph.Service;

/// <summary>
/// The partition this worker's sampling service answers for. The endpoint starts before the rendezvous says
/// which partition that is, so requests that arrive early wait here (bounded by their deadline) until it is loaded.
/// </summary>
/// <param name="admits">Whether a presented job token admits the caller.</param>
public sealed class ServedPartition(Func<string?, bool> admits)
{
    private volatile TaskCompletionSource<LocalPartition> loaded = NewWait();

    private static TaskCompletionSource<LocalPartition> NewWait() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Admits(string? presentedToken) => admits(presentedToken);

    public void Serve(LocalPartition partition)
    {
        if (loaded.TrySetResult(partition)) return;
        var next = NewWait();
        next.SetResult(partition);
        loaded = next;
    }

    /// <summary>
    /// The worker left its epoch: requests wait for the partition of its next one, which may be another (the
    /// world may have shrunk or grown).
    /// </summary>
    public void Withdraw()
    {
        if (loaded.Task.IsCompleted) loaded = NewWait();
    }

    public Task<LocalPartition> WhenServingAsync(CancellationToken ct) => loaded.Task.WaitAsync(ct);
}

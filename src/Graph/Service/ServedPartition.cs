using Dtrain.Graph.Sampling;

namespace Dtrain.Graph.Service;

/// <summary>
/// The partition this worker's sampling service answers for. The endpoint starts before the rendezvous says
/// which partition that is, so requests that arrive early wait here (bounded by their deadline) until it is loaded.
/// </summary>
/// <param name="admits">Whether a presented job token admits the caller.</param>
public sealed class ServedPartition(Func<string?, bool> admits)
{
    private readonly TaskCompletionSource<LocalPartition> loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Admits(string? presentedToken) => admits(presentedToken);

    public void Serve(LocalPartition partition) => loaded.SetResult(partition);

    public Task<LocalPartition> WhenServingAsync(CancellationToken ct) => loaded.Task.WaitAsync(ct);
}

using Dtrain.Contracts.Jobs;
using Dtrain.Graph.Sampling;

namespace Dtrain.Graph.Service;

/// <summary>
/// The partition this worker's sampling service answers for. The endpoint starts before the rendezvous says
/// which partition that is, so requests that arrive early wait here (bounded by their deadline) until it is loaded.
/// </summary>
public sealed class ServedPartition(string jobToken)
{
    private readonly TaskCompletionSource<LocalPartition> loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Admits(string? presentedToken) => JobToken.Matches(jobToken, presentedToken);

    public void Serve(LocalPartition partition) => loaded.SetResult(partition);

    public Task<LocalPartition> WhenServingAsync(CancellationToken ct) => loaded.Task.WaitAsync(ct);
}

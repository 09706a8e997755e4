namespace Dtrain.Collectives.Transports.Mpi;

/// <summary>
/// Awaits non-blocking MPI requests without holding a thread: polls MPI_Test (which also drives MPI's progress),
/// yielding between polls for the first <see cref="YieldingFor"/> and then sleeping 1 ms, so a long wait costs
/// little CPU on a busy machine.
/// </summary>
internal static class MpiRequests
{
    /// <summary>
    /// How long to poll with only a yield: collective steps wait milliseconds for their peers, and a 1 ms sleep
    /// per poll made small all-reduces take 3-12 ms (measured with `dtrain bench collectives --transport mpi`).
    /// </summary>
    private static readonly TimeSpan YieldingFor = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Completes when every request has. On cancellation it cancels the pending ones (MPI_Cancel) and still waits
    /// until MPI gives their buffers back, then throws <see cref="OperationCanceledException"/> if any request
    /// was cancelled: the caller unpins its buffers only after this returns.
    /// </summary>
    public static async ValueTask WaitAllAsync(IEnumerable<int> requests, CancellationToken ct)
    {
        var pending = new List<int>(requests);
        bool cancelling = false, cancelled = false;
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (pending.Count > 0)
        {
            for (int i = pending.Count - 1; i >= 0; i--)
            {
                int request = pending[i];
                MpiException.Check(MpiNative.Test(ref request, out int completed, out var status), "MPI_Test");
                if (completed == 0) continue;
                pending.RemoveAt(i);
                if (cancelling)
                {
                    MpiException.Check(MpiNative.TestCancelled(status, out int wasCancelled), "MPI_Test_cancelled");
                    cancelled |= wasCancelled != 0;
                }
            }
            if (pending.Count == 0) break;
            if (ct.IsCancellationRequested && !cancelling)
            {
                cancelling = true;
                for (int i = 0; i < pending.Count; i++)
                {
                    int request = pending[i];
                    MpiException.Check(MpiNative.Cancel(ref request), "MPI_Cancel");
                }
            }
            if (System.Diagnostics.Stopwatch.GetElapsedTime(started) < YieldingFor) await Task.Yield();
            else await Task.Delay(1, CancellationToken.None);
        }
        if (cancelled) throw new OperationCanceledException(ct);
    }
}

using System.Globalization;
using System.Net;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Dtrain.Distributed;
using Dtrain.Launcher.Monitoring;
using Dtrain.Launcher.Runs;

namespace Dtrain.Launcher.Local;

/// <summary>
/// The worker processes of a local run, kept at full strength: a worker that fails or that the coordinator
/// declared lost is reported, stopped, and replaced by a new process, which joins the job's next epoch. Under
/// MPI the one child is mpiexec with every rank: MPI cannot lose a rank, so the whole group is replaced. Each
/// worker's stdout is shown, and its stdout and stderr are kept in its log in the run directory.
/// </summary>
/// <param name="workerCommand">What each worker runs: `dtrain worker`, or the user's program.</param>
/// <param name="environment">The launch contract each worker is started with (the coordinator, the job).</param>
/// <param name="metricsPortBase">Worker N serves /metrics on this port + N (N as in its log's name, replacements included); null: free ports.</param>
public sealed class WorkerGroup(
    JobSpec job, IReadOnlyList<string> workerCommand, IReadOnlyDictionary<string, string> environment, int? metricsPortBase, string jobToken,
    IRunOutput output, RunDirectory runDirectory)
    : IDisposable
{
    private readonly List<ChildProcess> running = [];
    private readonly List<ChildProcess> ended = [];
    /// <summary>Workers this group stopped itself: their exit says nothing about why the job failed.</summary>
    private readonly List<ChildProcess> stopped = [];
    /// <summary>Workers seen among the job's members: one that fails before it ever joined is not replaced.</summary>
    private readonly HashSet<int> joined = [];
    /// <summary>The rank each member process had: mpiexec names a rank that ended badly by its process id only.</summary>
    private readonly Dictionary<int, int> ranks = [];
    private readonly Dictionary<ChildProcess, MpiexecBanner> banners = [];
    private int started;

    public void Start()
    {
        for (int i = 0; i < (job.Transport == TransportKind.Mpi ? 1 : job.Workers); i++) StartOne();
    }

    private void StartOne()
    {
        int index = started++;
        string log = RunDirectory.WorkerLog(index);
        // mpiexec starts (and numbers) the worker processes; they join the coordinator like any other.
        IReadOnlyList<string>? launcher = job.Transport == TransportKind.Mpi ? ["mpiexec.mpich", "-n", job.Workers.ToString()] : null;
        var banner = job.Transport == TransportKind.Mpi ? new MpiexecBanner() : null;
        var child = ChildProcess.Start(index, workerCommand, jobToken,
            line =>
            {
                runDirectory.Log(log, line);
                if (banner?.Read(line) != true) output.Say(line);
            },
            launcher,
            line => runDirectory.Log(log, line),
            EnvironmentOf(index));
        running.Add(child);
        if (banner is not null) banners[child] = banner;
    }

    private IReadOnlyDictionary<string, string> EnvironmentOf(int index)
    {
        if (metricsPortBase is not { } first) return environment;
        int port = first + index;
        if (port > IPEndPoint.MaxPort) throw new DtrainException($"worker {index} would serve /metrics on port {port}, beyond {IPEndPoint.MaxPort}: give a lower --worker-metrics-port");
        return new Dictionary<string, string>(environment) { [JobEnvironment.MetricsPort] = port.ToString(CultureInfo.InvariantCulture) };
    }

    /// <summary>Stops every worker still running, and waits until they are gone and all they printed is read.</summary>
    public void StopAll()
    {
        foreach (var child in running)
        {
            if (!child.HasExited) stopped.Add(child);
            child.Stop();
        }
    }

    /// <summary>
    /// Tells the job why its epoch cannot go on when a worker failed or was lost, and replaces the worker when the job
    /// may restart at all; without restarts the job fails, and its error line says why.
    /// </summary>
    public async Task SuperviseAsync(JobView status, CoordinatorHost coordinator)
    {
        if (status.LastRestart?.LostProcessId is { } lost && running.FirstOrDefault(c => c.ProcessId == lost) is { } hung)
        {
            // Declared lost (it hangs): its epoch has ended already, and the restart was counted.
            hung.Stop();
            stopped.Add(hung);
            output.Say($"worker {hung.Index} was lost; starting a replacement");
            Replace(hung);
        }
        joined.UnionWith(status.MemberProcessIds);
        foreach (var (process, rank) in status.RankOfProcess) ranks[process] = rank;
        foreach (var failed in running.Where(c => c.HasFailed).OrderBy(c => c.ExitTime).ToList())
        {
            if (banners.TryGetValue(failed, out var banner))
            {
                failed.Stop();   // exited already: this reads the rest of what it printed, the banner included
                failed.Explanation = banner.Describe(process => ranks.TryGetValue(process, out int rank) ? rank : null);
            }
            string failure = failed.DescribeFailure("worker");
            // The same command would fail again (a program that cannot start, a bad argument): replacing it would loop.
            if (job.Transport != TransportKind.Mpi && !joined.Contains(failed.ProcessId)) throw new DtrainException($"{failure} (before it joined the job, so it is not replaced)");
            // Without restarts any failure ends the job. With them, a failure may still belong to an epoch whose
            // restart was counted already (a peer that exited after the first loss), so it is replaced.
            bool replace = job.Elastic.MaxRestarts > 0;
            if (replace) output.Say($"{failure}; starting a replacement");
            if (job.Transport == TransportKind.Mpi) await coordinator.EndEpochAsync(status.Epoch, failure);
            else await coordinator.ProcessExitedAsync(failed.ProcessId, failure);
            if (replace) Replace(failed);
            else Retire(failed);
        }
    }

    private void Replace(ChildProcess child)
    {
        Retire(child);
        StartOne();
    }

    private void Retire(ChildProcess child)
    {
        running.Remove(child);
        ended.Add(child);
    }

    /// <summary>
    /// The first worker failure since <paramref name="epochBegan"/> (UTC), in the worker's own words: the likely cause
    /// of a failed job. Failures before it were recovered from; the peers of a worker that died fail after it.
    /// Null if none failed since.
    /// </summary>
    public string? FirstFailureSince(DateTime epochBegan) =>
        ChildProcess.FirstFailure(ended.Concat(running).Except(stopped).Where(c => c.HasFailed && c.ExitTime.ToUniversalTime() >= epochBegan), "worker");

    public async Task WaitForExitAsync(CancellationToken ct)
    {
        foreach (var child in running) await child.WaitForExitAsync(ct);
    }

    public void Dispose()
    {
        foreach (var child in ended.Concat(running)) child.Dispose();
    }
}

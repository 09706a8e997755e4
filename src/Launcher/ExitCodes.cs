namespace Dtrain.Launcher;

/// <summary>
/// What every dtrain command exits with: 0 when it did what was asked, 1 when training (or any other work) failed,
/// 2 for a usage error (a bad flag, job file or value), a worker's own 3 (its launcher is gone,
/// <see cref="Distributed.Runtime.ParentWatch.LauncherGoneExitCode"/>) and 4 (<see cref="CoordinatorLost"/>), and
/// 128 + the signal's number when SIGINT (130) or SIGTERM (143) interrupted it, as shells report a process a signal ended.
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    /// <summary>A worker's coordinator stopped answering for longer than its bound (<see cref="Distributed.CoordinatorLostException"/>).</summary>
    public const int CoordinatorLost = 4;
    public const int Interrupted = 130;
    public const int Terminated = 143;
}

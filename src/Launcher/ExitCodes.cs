namespace Dtrain.Launcher;

/// <summary>
/// What every dtrain command exits with: 0 when it did what was asked, 1 when training (or any other work) failed,
/// 2 for a usage error (a bad flag, job file or value), and 128 + the signal's number when SIGINT (130) or
/// SIGTERM (143) interrupted it, as shells report a process a signal ended.
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Interrupted = 130;
    public const int Terminated = 143;
}

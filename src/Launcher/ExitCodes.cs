namespace Dtrain.Launcher;

public static class ExitCodes
{
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Cancelled = 130;
}

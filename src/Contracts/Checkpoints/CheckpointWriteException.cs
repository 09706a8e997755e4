namespace Dtrain.Contracts.Checkpoints;

/// <summary>
/// A checkpoint file (a shard, a manifest) that could not be written, in one line naming the file and why: a full
/// disk is said as such, whatever the platform's words. It fails the job; the checkpoints committed before stay whole.
/// </summary>
public sealed class CheckpointWriteException(string path, Exception cause)
    : DtrainException($"cannot write checkpoint file {path}: {Describe(cause)}", cause)
{
    /// <summary>ENOSPC and EDQUOT on Linux; ERROR_DISK_FULL and ERROR_HANDLE_DISK_FULL on Windows.</summary>
    private static readonly int[] DiskFull = [28, 122, unchecked((int)0x80070070), unchecked((int)0x80070027)];

    private static bool IsDiskFull(Exception e) => e is IOException && DiskFull.Contains(e.HResult);

    private static string Describe(Exception cause) => IsDiskFull(cause)
        ? "the disk is full (no space left on the device)"
        : cause.Message;
}

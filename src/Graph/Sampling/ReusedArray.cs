namespace Dtrain.Graph.Sampling;

/// <summary>
/// Buffers kept from batch to batch instead of allocated anew: megabytes of fresh arrays every batch cost the
/// kernel's clearing of newly faulted pages, more than the work done in them.
/// </summary>
internal static class ReusedArray
{
    /// <summary>The array itself when it holds <paramref name="length"/>; otherwise a larger one, with room to spare so that slightly larger batches later do not grow it again. Contents are not kept.</summary>
    public static T[] AtLeast<T>(T[] array, int length) where T : unmanaged =>
        array.Length >= length ? array : GC.AllocateUninitializedArray<T>((int)Math.Min(Array.MaxLength, length + (long)length / 4));
}

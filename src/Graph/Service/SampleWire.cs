using System.Runtime.InteropServices;
using Google.Protobuf;

namespace Dtrain.Graph.Service;

/// <summary>The bulk fields of protos/sampling.proto: arrays as bytes of little-endian int32 or float32.</summary>
internal static class SampleWire
{
    public static ByteString Pack<T>(ReadOnlySpan<T> values) where T : unmanaged => ByteString.CopyFrom(MemoryMarshal.AsBytes(values));

    /// <returns>Null when the byte count is not a whole number of values.</returns>
    public static T[]? Unpack<T>(ByteString bytes) where T : unmanaged =>
        bytes.Length % System.Runtime.CompilerServices.Unsafe.SizeOf<T>() == 0 ? MemoryMarshal.Cast<byte, T>(bytes.Span).ToArray() : null;
}

using System.Runtime.CompilerServices;

namespace Dtrain.Collectives;

/// <summary>Element types the collectives move and reduce.</summary>
public enum DataType : byte
{
    Byte = 1,
    Float32,
    Float64,
    Int64,
    BFloat16,
}

public static class DataTypes
{
    /// <summary>The <see cref="DataType"/> of a .NET element type; other types are not supported.</summary>
    public static DataType Of<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? DataType.Float32
        : typeof(T) == typeof(double) ? DataType.Float64
        : typeof(T) == typeof(long) ? DataType.Int64
        : typeof(T) == typeof(BFloat16) ? DataType.BFloat16
        : typeof(T) == typeof(byte) ? DataType.Byte
        : throw new NotSupportedException($"collectives do not support elements of type {typeof(T).Name}");

    public static int SizeOf<T>() where T : unmanaged => Unsafe.SizeOf<T>();

    public static string Name(this DataType type) => type.ToString().ToLowerInvariant();
}

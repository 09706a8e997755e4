using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Dtrain.Collectives.Algorithms;

/// <summary>Element-wise reduction of one buffer into another, for every supported element type.</summary>
internal static class Reduction
{
    /// <summary><paramref name="into"/>[i] = <paramref name="into"/>[i] op <paramref name="other"/>[i]. Average sums; see <see cref="Average{T}"/>.</summary>
    public static void Combine<T>(ReduceOp op, Span<T> into, ReadOnlySpan<T> other) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) Numeric(op, Cast<T, float>(into), Cast<T, float>(other));
        else if (typeof(T) == typeof(double)) Numeric(op, Cast<T, double>(into), Cast<T, double>(other));
        else if (typeof(T) == typeof(long)) Numeric(op, Cast<T, long>(into), Cast<T, long>(other));
        else if (typeof(T) == typeof(BFloat16)) BFloat16s(op, Cast<T, BFloat16>(into), Cast<T, BFloat16>(other));
        else throw new NotSupportedException($"cannot reduce elements of type {typeof(T).Name}");
    }

    /// <summary>Divides a sum by the group size, turning it into the average.</summary>
    public static void Average<T>(Span<T> data, int size) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) TensorPrimitives.Divide(Cast<T, float>(data), size, Cast<T, float>(data));
        else if (typeof(T) == typeof(double)) TensorPrimitives.Divide(Cast<T, double>(data), size, Cast<T, double>(data));
        else if (typeof(T) == typeof(BFloat16))
        {
            var values = Cast<T, BFloat16>(data);
            for (int i = 0; i < values.Length; i++) values[i] = (BFloat16)((float)values[i] / size);
        }
        else throw new NotSupportedException($"cannot average elements of type {typeof(T).Name}");
    }

    /// <summary>Rejects what cannot work before any message is sent, so every rank fails the same way.</summary>
    public static void Validate<T>(ReduceOp op) where T : unmanaged
    {
        if (op == ReduceOp.Average && (typeof(T) == typeof(long) || typeof(T) == typeof(byte)))
        {
            throw new ArgumentException($"average is defined for floating-point elements only, not {DataTypes.Of<T>().Name()}");
        }
        DataTypes.Of<T>();
    }

    private static void Numeric<T>(ReduceOp op, Span<T> into, ReadOnlySpan<T> other) where T : INumber<T>
    {
        switch (op)
        {
            case ReduceOp.Sum or ReduceOp.Average: TensorPrimitives.Add(into, other, into); break;
            case ReduceOp.Max: TensorPrimitives.Max(into, other, into); break;
            case ReduceOp.Min: TensorPrimitives.Min(into, other, into); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    /// <summary>bfloat16 is reduced in float32 and rounded once per combination, as NCCL does.</summary>
    private static void BFloat16s(ReduceOp op, Span<BFloat16> into, ReadOnlySpan<BFloat16> other)
    {
        for (int i = 0; i < into.Length; i++)
        {
            float a = (float)into[i], b = (float)other[i];
            into[i] = (BFloat16)(op switch
            {
                ReduceOp.Sum or ReduceOp.Average => a + b,
                ReduceOp.Max => MathF.Max(a, b),
                ReduceOp.Min => MathF.Min(a, b),
                _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
            });
        }
    }

    private static Span<TTo> Cast<TFrom, TTo>(Span<TFrom> span) where TFrom : unmanaged where TTo : unmanaged =>
        MemoryMarshal.Cast<TFrom, TTo>(span);

    private static ReadOnlySpan<TTo> Cast<TFrom, TTo>(ReadOnlySpan<TFrom> span) where TFrom : unmanaged where TTo : unmanaged =>
        MemoryMarshal.Cast<TFrom, TTo>(span);
}

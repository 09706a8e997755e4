using System.Reflection;
using System.Reflection.Emit;
using TorchSharp;

namespace Dtrain.Tests.Optimizers;

/// <summary>
/// No code of ours makes an implicit TorchSharp Scalar, which a garbage collection can finalize while libtorch reads
/// it (see Dtrain.Optimizers.HeldScalars). A stress test catches such a call only by luck; this reads the IL of our
/// assemblies for calls to Scalar's implicit conversions, and to TorchSharp methods that make one themselves
/// (add(Tensor)'s default alpha, tensor * number, square(), arange's default step). Virtual calls are not followed:
/// TorchSharp's own optimizers (Adam.step) make implicit Scalars inside and are not flagged; our code steps
/// Dtrain.Optimizers.HeldAdam instead, and tests step TorchSharp's only as oracles.
/// </summary>
public class ImplicitScalarTests
{
    private static readonly string[] Assemblies =
        ["Dtrain.Collectives", "Dtrain.Models", "Dtrain.Optimizers", "Dtrain.TensorParallel", "Dtrain.Graph", "Dtrain.Worker", "dtrain", "Dtrain.Tests"];

    private const BindingFlags Declared =
        BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    private static readonly Assembly TorchSharpAssembly = typeof(Scalar).Assembly;

    private readonly Dictionary<MethodBase, bool> makesImplicitScalar = [];

    [Fact]
    public void No_call_site_makes_an_implicit_scalar()
    {
        var found = Assemblies.Select(Assembly.Load)
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(Declared).Cast<MethodBase>().Concat(t.GetConstructors(Declared)))
            .SelectMany(m => Callees(m).Where(c => MakesImplicitScalar(c, 0)).Select(c => $"{m.DeclaringType}.{m.Name} calls {Signature(c)}"))
            .Distinct().ToList();
        Assert.True(found.Count == 0, $"implicit Scalars:\n{string.Join("\n", found)}");
    }

    private static string Signature(MethodBase method) =>
        $"{method.DeclaringType?.Name}.{method.Name}({string.Join(", ", method.GetParameters().Select(p => p.ParameterType.Name))})";

    /// <summary>An implicit conversion to Scalar, or a TorchSharp method that calls one within a few calls.</summary>
    private bool MakesImplicitScalar(MethodBase method, int depth)
    {
        if (method.DeclaringType == typeof(Scalar) && method.Name == "op_Implicit") return true;
        if (method.Module.Assembly != TorchSharpAssembly || depth > 2) return false;
        if (makesImplicitScalar.TryGetValue(method, out bool known)) return known;
        makesImplicitScalar[method] = false;   // a recursive call does not count twice
        return makesImplicitScalar[method] = Callees(method).Any(c => MakesImplicitScalar(c, depth + 1));
    }

    /// <summary>The methods and constructors a method's IL calls directly.</summary>
    private static IEnumerable<MethodBase> Callees(MethodBase method)
    {
        if (method.GetMethodBody()?.GetILAsByteArray() is not { } il) yield break;
        var typeArguments = method.DeclaringType is { IsGenericType: true } type ? type.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            var op = il[i] == 0xFE ? OpCodesByValue[(short)(0xFE00 | il[i + 1])] : OpCodesByValue[il[i]];
            i += op.Size;
            if (op.OperandType == OperandType.InlineMethod)
            {
                MethodBase? callee = null;
                try
                {
                    callee = method.Module.ResolveMethod(BitConverter.ToInt32(il, i), typeArguments, methodArguments);
                }
                catch (ArgumentException)
                {
                    // A token of a generic context this scan does not reconstruct: not a Scalar conversion of ours.
                }
                if (callee is not null) yield return callee;
            }
            i += op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
        }
    }
}

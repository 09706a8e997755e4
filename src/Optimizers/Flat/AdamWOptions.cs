namespace Dtrain.Optimizers.Flat;

/// <summary>AdamW's settings, with torch.optim.AdamW's defaults.</summary>
public sealed record AdamWOptions
{
    public double LearningRate { get; init; } = 1e-3;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Decoupled: each step multiplies the weights by 1 - lr × weight_decay before the Adam update.</summary>
    public double WeightDecay { get; init; } = 1e-2;

    /// <summary>Throws with every problem, each naming the option and the bad value.</summary>
    public void Validate()
    {
        var problems = Problems().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems));
    }

    public IEnumerable<string> Problems()
    {
        if (!(LearningRate >= 0)) yield return $"lr must not be negative, got {LearningRate}";
        if (Beta1 is < 0 or >= 1 || double.IsNaN(Beta1)) yield return $"beta1 must be in [0, 1), got {Beta1}";
        if (Beta2 is < 0 or >= 1 || double.IsNaN(Beta2)) yield return $"beta2 must be in [0, 1), got {Beta2}";
        if (!(Epsilon >= 0)) yield return $"eps must not be negative, got {Epsilon}";
        if (!(WeightDecay >= 0)) yield return $"weight_decay must not be negative, got {WeightDecay}";
    }
}

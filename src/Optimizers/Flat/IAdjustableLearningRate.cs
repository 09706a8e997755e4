namespace Dtrain.Optimizers.Flat;

/// <summary>An optimizer whose learning rate a schedule sets before each step.</summary>
public interface IAdjustableLearningRate
{
    double LearningRate { get; set; }
}

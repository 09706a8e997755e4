using Dtrain.Contracts.Jobs;

namespace Dtrain.Tests.Jobs;

/// <summary>
/// The job's checks for `--model cannon-mlp`. Training itself is tested with real worker processes
/// (RunTests): several in-process ranks of this trainer in one test host hung intermittently (not yet explained).
/// </summary>
public class TensorParallelJobTests
{
    [Fact]
    public void A_non_square_number_of_workers_or_another_optimizer_is_refused_by_name()
    {
        var problems = new JobSpec { Model = ModelKind.CannonMlp, Workers = 3, Optimizer = OptimizerKind.Shampoo }.Problems().ToList();
        Assert.Contains(problems, p => p.Contains("square number of workers") && p.Contains("got 3"));
        Assert.Contains(problems, p => p.Contains("adam only") && p.Contains("shampoo"));
    }

    [Fact]
    public void Checkpoints_and_resuming_are_accepted()
    {
        Assert.Empty(new JobSpec { Model = ModelKind.CannonMlp, Workers = 4, Checkpoints = new() { Every = 5, Dir = "/tmp", Resume = true } }.Problems());
    }
}

using System.Diagnostics;
using System.Globalization;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;

namespace Dtrain.Training;

/// <summary>
/// The step loop of the built-in trainers: the job's steps from the first (0, or the one the job resumes at), a
/// checkpoint after every step the job wants one, and each step's duration, samples and loss published
/// (<see cref="TrainingSteps.Finished"/>). The trainer brings what is its own: the step and how its checkpoint is written.
/// </summary>
/// <param name="samplesPerStep">What this rank adds to the job's sample count each step.</param>
/// <param name="writeCheckpoint">Writes this rank's checkpoint after the given number of steps; null for a job that takes none.</param>
public sealed class TrainingLoop(
    JobSpec job, int rank, int samplesPerStep, Func<int, CancellationToken, Task>? writeCheckpoint, IProgress<StepReport>? progress)
{
    /// <summary>Runs steps <paramref name="first"/> up to the job's last; returns the last step's loss, NaN when none ran.</summary>
    /// <param name="step">Computes the gradients of the given step and takes the optimizer step; returns the step's loss.</param>
    public async Task<double> RunAsync(int first, Func<int, CancellationToken, Task<double>> step, CancellationToken ct)
    {
        string rankLabel = rank.ToString();
        double loss = double.NaN;
        for (int index = first; index < job.Steps; index++)
        {
            long started = Stopwatch.GetTimestamp();
            loss = await step(index, ct);
            // A loss that is not a number means the parameters are not either: stop before a checkpoint keeps them.
            if (!double.IsFinite(loss))
            {
                throw new DtrainException($"the training diverged at step {index + 1}: the loss is {loss.ToString(CultureInfo.InvariantCulture)} (try a lower --lr)");
            }
            if (writeCheckpoint is not null && job.Checkpoints.IsDue(index + 1)) await writeCheckpoint(index + 1, ct);
            TrainingSteps.Finished(progress, rankLabel, index, started, samplesPerStep, loss);
        }
        return loss;
    }
}

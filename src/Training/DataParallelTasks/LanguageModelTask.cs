using Dtrain.Contracts.Jobs;
using Dtrain.Models.Data;
using Dtrain.Models.Transformer;
using static TorchSharp.torch;

namespace Dtrain.Training.DataParallelTasks;

/// <summary>
/// transformer-lm: a byte-level transformer language model on the job's text corpus (the last tenth of each file
/// held out), each rank on its rows of every step's windows. Scored by next-byte accuracy on a fixed set of held-out
/// windows, which the ranks split between them.
/// </summary>
public sealed class LanguageModelTask(JobSpec job, int rank, int worldSize) : IDataParallelTask
{
    public const int Context = 64, Width = 64, Layers = 2, Heads = 4;
    private const int HeldOutBatches = 16, HeldOutWindows = 64;
    private readonly TextCorpus corpus = TextCorpus.Read(job.Data);

    public nn.Module<Tensor, Tensor> CreateModel() => new TransformerLm(TextCorpus.Vocabulary, Context, Width, Layers, Heads);

    public (Tensor Inputs, Tensor Targets) Batch(int step, Device device) =>
        corpus.Train.Batch(job.Seed, step, rank, job.BatchSize, Context, device);

    public (long Correct, long Count) ScoreHeldOut(nn.Module<Tensor, Tensor> model, Device device)
    {
        long first = (long)HeldOutWindows * rank / worldSize, end = (long)HeldOutWindows * (rank + 1) / worldSize;
        long correct = 0, count = 0;
        for (int batch = 0; batch < HeldOutBatches && end > first; batch++)
        {
            using var scope = NewDisposeScope();
            var (inputs, targets) = corpus.HeldOut.Batch(job.Seed, batch, 0, HeldOutWindows, Context, device);
            var predicted = model.call(inputs.narrow(0, first, end - first)).argmax(-1);
            var expected = targets.narrow(0, first, end - first);
            correct += predicted.eq(expected).sum().item<long>();
            count += expected.numel();
        }
        return (correct, count);
    }
}

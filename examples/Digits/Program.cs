// Classifies the 8x8 handwritten digits that Debian's python3-sklearn ships (scripts/fetch-datasets.sh):
// 1797 images, every sixth held out. Each rank trains on its share of every batch; the model is its own module.
//   dtrain run --workers 2 --steps 300 --batch-size 32 --lr 0.003 --checkpoint-dir ckpt --checkpoint-every 50 \
//     -- dotnet examples/Digits/bin/Release/net10.0/Digits.dll data/digits.csv.gz
using Dtrain.Collectives;
using Dtrain.Distributed;
using Dtrain.Models.Data;
using Dtrain.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

var digits = CsvTable.Read(args.Length > 0 ? args[0] : "data/digits.csv.gz");
long[] train = [.. Enumerable.Range(0, digits.Rows).Where(row => row % 6 != 5).Select(row => (long)row)];
long[] heldOut = [.. Enumerable.Range(0, digits.Rows).Where(row => row % 6 == 5).Select(row => (long)row)];

await using var job = await DistributedJob.InitAsync();
await job.RunAsync(async (context, ct) =>
{
    var settings = context.Job;
    manual_seed(settings.Seed);
    var model = nn.Sequential(("hidden", nn.Linear(digits.Features, 128)), ("relu", nn.ReLU()), ("out", nn.Linear(128, digits.Classes)));
    model.to(context.Device);
    using var optimizer = new HeldAdam(model.parameters(), settings.LearningRate, weight_decay: 0.01, decoupled_weight_decay: true);
    int start = context.Checkpoints.Load(model, optimizer);
    using var ddp = await DistributedDataParallel.CreateAsync(model, context, ct);
    var sampler = new DistributedSampler(train.Length, context.Rank, context.WorldSize, settings.BatchSize, settings.Seed);
    using var toUnit = tensor(1f / 16, device: context.Device);   // pixels are 0..16

    double loss = double.NaN;
    for (int step = start; step < settings.Steps; step++)
    {
        using var scope = NewDisposeScope();
        var (pixels, labels) = digits.Batch([.. sampler.BatchAt(step).ToArray().Select(i => train[i])], context.Device);
        optimizer.zero_grad();
        var batchLoss = nn.functional.cross_entropy(model.call(pixels * toUnit), labels);
        batchLoss.backward();
        await ddp.SynchronizeAsync(ct);
        optimizer.step();
        loss = batchLoss.item<float>();
        context.ReportStep(step + 1, loss, settings.BatchSize);
        if (context.Checkpoints.IsDue(step + 1)) await context.Checkpoints.SaveAsync(step + 1, model, optimizer, ct);
    }

    // Held-out accuracy: each rank scores its share of the held-out rows; one all-reduce adds up the counts.
    var shard = DistributedSampler.EvaluationShard(0, heldOut.Length, context.Rank, context.WorldSize).Select(i => heldOut[i]).ToArray();
    var counts = new double[2];
    using (no_grad())
    {
        var (pixels, labels) = digits.Batch(shard, context.Device);
        counts[0] = model.call(pixels * toUnit).argmax(1).eq(labels).sum().item<long>();
        counts[1] = shard.Length;
    }
    await context.Communicator.AllReduceAsync<double>(counts, ReduceOp.Sum, ct);
    Console.WriteLine(FormattableString.Invariant($"rank {context.Rank}: held-out accuracy {counts[0] / counts[1]:P2} on {counts[1]} digits"));
    return TrainingResult.Of(loss, counts[0] / counts[1], model);
});

// A byte-level transformer language model on the fortunes that Debian's fortunes package ships
// (scripts/fetch-datasets.sh): the last tenth of every file is held out. It reports the held-out loss in nats per
// byte beside the unigram baseline (the held-out entropy under the training bytes' frequencies).
//   dtrain run --workers 2 --steps 400 --batch-size 16 --lr 0.003 -- dotnet examples/CharLm/bin/Release/net10.0/CharLm.dll data/fortunes
using Dtrain.Collectives;
using Dtrain.Distributed;
using Dtrain.Models.Data;
using Dtrain.Models.Transformer;
using Dtrain.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

const int Context = 64, Width = 64, Layers = 2, Heads = 4, EvaluationBatches = 16;
var corpus = TextCorpus.Read(args.Length > 0 ? args[0] : "data/fortunes");
double unigram = corpus.UnigramEntropy();

await using var job = await DistributedJob.InitAsync();
await job.RunAsync(async (context, ct) =>
{
    var settings = context.Job;
    manual_seed(settings.Seed);
    var model = new TransformerLm(TextCorpus.Vocabulary, Context, Width, Layers, Heads);
    model.to(context.Device);
    using var optimizer = new HeldAdam(model.parameters(), settings.LearningRate, weight_decay: 0.01, decoupled_weight_decay: true);
    int start = context.Checkpoints.Load(model, optimizer);
    using var ddp = await DistributedDataParallel.CreateAsync(model, context, ct);

    double loss = double.NaN;
    for (int step = start; step < settings.Steps; step++)
    {
        using var scope = NewDisposeScope();
        var (inputs, targets) = corpus.Train.Batch(settings.Seed, step, context.Rank, settings.BatchSize, Context, context.Device);
        optimizer.zero_grad();
        var batchLoss = nn.functional.cross_entropy(model.call(inputs).flatten(0, 1), targets.flatten());
        batchLoss.backward();
        await ddp.SynchronizeAsync(ct);
        optimizer.step();
        loss = batchLoss.item<float>();
        context.ReportStep(step + 1, loss, settings.BatchSize * Context);
        if (context.Checkpoints.IsDue(step + 1)) await context.Checkpoints.SaveAsync(step + 1, model, optimizer, ct);
    }

    // Held-out loss and next-byte accuracy over the same windows on any number of ranks: each rank scores its rows.
    var totals = new double[3];
    using (no_grad())
    {
        for (int batch = 0; batch < EvaluationBatches; batch++)
        {
            using var scope = NewDisposeScope();
            var (inputs, targets) = corpus.HeldOut.Batch(settings.Seed, batch, context.Rank, 64 / context.WorldSize, Context, context.Device);
            var logits = model.call(inputs).flatten(0, 1);
            totals[0] += nn.functional.cross_entropy(logits, targets.flatten(), reduction: nn.Reduction.Sum).item<float>();
            totals[1] += logits.argmax(1).eq(targets.flatten()).sum().item<long>();
            totals[2] += targets.numel();
        }
    }
    await context.Communicator.AllReduceAsync<double>(totals, ReduceOp.Sum, ct);
    double heldOutLoss = totals[0] / totals[2];
    Console.WriteLine(FormattableString.Invariant(
        $"rank {context.Rank}: held-out loss {heldOutLoss:0.000} nats/byte, unigram baseline {unigram:0.000} ({heldOutLoss / unigram:P0} of it)"));
    return TrainingResult.Of(loss, totals[1] / totals[2], model);
});

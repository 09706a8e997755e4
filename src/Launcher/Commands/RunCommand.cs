using System.CommandLine;
using Dtrain.Launcher.Jobs;
using Dtrain.Launcher.Local;
using Dtrain.Launcher.Monitoring;
using Dtrain.Launcher.Runs;

namespace Dtrain.Launcher.Commands;

public static class RunCommand
{
    public static Command Create()
    {
        var jobOptions = new JobOptions();
        var jobId = new Option<string>("--job-id")
        {
            Description = "the job's name, from which the job token is derived (`dtrain token`); default: job- and a random suffix",
            DefaultValueFactory = _ => $"job-{Guid.NewGuid():N}"[..12],
        };
        var runDir = new Option<string?>("--run-dir")
        {
            Description = "directory the run keeps its logs (launcher.log, worker-N.log), progress.csv and summary.json in, for `dtrain report` [default: runs/JOB-ID]",
        };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "print only the result line (and errors, on stderr)" };
        var json = new Option<bool>("--json") { Description = "print JSON lines on stdout: messages, progress per step, and a final summary" };
        var ranks = new Option<bool>("--ranks") { Description = "show each rank's step, loss and last heartbeat under the progress" };
        var program = new Argument<string[]>("program")
        {
            Arity = ArgumentArity.ZeroOrMore,
            Description = "after --: the program each worker runs instead of the built-in model, with its arguments " +
                "(it joins the job through the Dtrain library, as torchrun's workers do through their environment)",
        };
        var command = new Command("run",
            "Train a job on this machine: starts the coordinator (Orleans silo, gRPC, /metrics) in this process and " +
            "one worker process per rank. Default job: an MLP on a generated classification task, 2 workers, CPU or CUDA; " +
            "`dtrain run [options] -- PROGRAM [ARGS...]` runs the user's own program on each worker instead. " +
            "Ctrl-C stops every worker and says where the last checkpoint is.");
        jobOptions.AddTo(command);
        command.Options.Add(jobId);
        command.Options.Add(runDir);
        command.Options.Add(quiet);
        command.Options.Add(json);
        command.Options.Add(ranks);
        command.Arguments.Add(program);
        command.SetAction(async (parse, ct) =>
        {
            var job = jobOptions.Resolve(parse);
            if (parse.GetValue(quiet) && parse.GetValue(json)) throw new UsageException("--quiet and --json cannot be combined: --json prints only JSON already");
            string id = parse.GetValue(jobId)!;
            using var directory = RunDirectory.Create(parse.GetValue(runDir) ?? Path.Combine("runs", id));
            IRunOutput shown = parse.GetValue(json) ? new JsonOutput(Console.Out)
                : parse.GetValue(quiet) ? new QuietOutput()
                : new TerminalOutput(parse.GetValue(ranks));
            await LocalJob.RunAsync(new LocalRun(job, id, directory, ResumeCommand(parse), parse.GetValue(program) ?? []), new RecordedOutput(directory, shown), ct);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>This run's command line with --resume: the same job, from its newest checkpoint.</summary>
    private static string ResumeCommand(ParseResult parse)
    {
        var words = parse.Tokens.Select(token => token.Value).ToList();
        // Options go before the program's own arguments.
        int programStarts = words.IndexOf("--") is >= 0 and var dashes ? dashes : words.Count;
        if (!words.Take(programStarts).Contains("--resume")) words.Insert(programStarts, "--resume");
        return string.Join(" ", words.Prepend("dtrain").Select(Quoted));
    }

    private static string Quoted(string word) =>
        word.Length > 0 && word.All(c => char.IsLetterOrDigit(c) || "-_./=:,@+".Contains(c)) ? word : $"'{word.Replace("'", @"'\''")}'";
}

using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using Dtrain.Contracts.Jobs;
using Dtrain.Launcher.Jobs;
using Dtrain.Launcher.Local;
using Dtrain.Launcher.Monitoring;
using Dtrain.Launcher.Runs;

namespace Dtrain.Launcher.Commands;

public static class RunCommand
{
    /// <param name="program">What followed -- on the command line: the program each worker runs, with its arguments; empty: the built-in model.</param>
    public static Command Create(IReadOnlyList<string> program)
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
        var workerMetricsPort = new Option<int?>("--worker-metrics-port")
        {
            Description = "serve worker N's /metrics on this port + N (N as in worker-N.log; a replacement worker gets the next N) [default: free ports]",
        };
        workerMetricsPort.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is { } port && port is < 1 or > IPEndPoint.MaxPort)
            {
                result.AddError($"--worker-metrics-port must be a port from 1 to {IPEndPoint.MaxPort}, got {port}");
            }
        });
        var linger = LingerOption.Create();
        var command = new Command("run",
            "Train a job on this machine: starts the coordinator (Orleans silo, gRPC, /metrics) in this process and " +
            "one worker process per rank. Default job: an MLP on a generated classification task, 2 workers, CPU or CUDA; " +
            "`dtrain run [options] -- PROGRAM [ARGS...]` runs the user's own program on each worker instead (it joins the job " +
            "through the Dtrain library, from the environment, as torchrun's workers do). " +
            "Ctrl-C stops every worker and says where the last checkpoint is.");
        jobOptions.AddTo(command);
        command.Options.Add(jobId);
        JobOptions.AcceptJobId(jobId);
        command.Options.Add(runDir);
        command.Options.Add(quiet);
        command.Options.Add(json);
        command.Options.Add(ranks);
        command.Options.Add(workerMetricsPort);
        command.Options.Add(linger);
        command.SetAction(async (parse, ct) =>
        {
            var job = jobOptions.Resolve(parse, builtIn: program.Count == 0, Console.Error);
            if (parse.GetValue(quiet) && parse.GetValue(json)) throw new UsageException("--quiet and --json cannot be combined: --json prints only JSON already");
            if (parse.GetValue(workerMetricsPort) is not null && job.Transport == TransportKind.Mpi)
            {
                throw new UsageException("--worker-metrics-port needs --transport grpc: mpiexec starts the ranks with one environment");
            }
            string id = parse.GetValue(jobId)!;
            using var directory = RunDirectory.Create(parse.GetValue(runDir) ?? Path.Combine("runs", id));
            IRunOutput shown = parse.GetValue(json) ? new JsonOutput(Console.Out)
                : parse.GetValue(quiet) ? new QuietOutput()
                : new TerminalOutput(parse.GetValue(ranks));
            var run = new LocalRun(job, id, directory, ResumeCommand(parse, program, id), program, parse.GetValue(workerMetricsPort), parse.GetValue(linger));
            await LocalJob.RunAsync(run, new RecordedOutput(directory, shown), ct);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Options whose values are paths: the resume command gives them whole, so that it works from any directory.</summary>
    private static readonly string[] PathOptions = ["--checkpoint-dir", "--data", "--graph", "--run-dir"];

    /// <summary>
    /// This run's command line with --resume: the same job, from its newest checkpoint. Its paths are made absolute
    /// (the job file's too), and it names the job (--job-id), so that it resumes this job's own checkpoints into the same
    /// run directory from wherever it is run.
    /// </summary>
    private static string ResumeCommand(ParseResult parse, IReadOnlyList<string> program, string jobId)
    {
        var words = new List<string> { "dtrain", parse.CommandResult.Command.Name };
        bool named = false;
        foreach (var given in parse.CommandResult.Children)
        {
            if (given is ArgumentResult jobFile) words.AddRange(jobFile.Tokens.Select(token => FullPath(token.Value)));
            if (given is not OptionResult { Implicit: false } option || option.Option.Name == "--resume") continue;
            named |= option.Option.Name == "--job-id";
            bool paths = PathOptions.Contains(option.Option.Name);
            words.Add(option.IdentifierToken?.Value ?? option.Option.Name);
            words.AddRange(option.Tokens.Select(token => paths ? FullPath(token.Value) : token.Value));
        }
        if (!named) words.AddRange(["--job-id", jobId]);
        words.Add("--resume");
        if (program.Count > 0) words = [.. words, "--", .. program];
        return string.Join(" ", words.Select(Quoted));
    }

    private static string FullPath(string path) => path == "" ? path : Path.GetFullPath(path);

    private static string Quoted(string word) =>
        word.Length > 0 && word.All(c => char.IsLetterOrDigit(c) || "-_./=:,@+".Contains(c)) ? word : $"'{word.Replace("'", @"'\''")}'";
}

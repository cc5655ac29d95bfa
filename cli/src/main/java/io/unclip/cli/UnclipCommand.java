package io.unclip.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The {@code unclip} command: the embedded text-to-image cascade and its tools. */
@Command(name = "unclip", mixinStandardHelpOptions = true, version = "unclip 0.1.0",
        description = "Text-to-image diffusion cascades (DALL-E 2 style: text encoder, prior, decoder, upsamplers)"
                + " on ONNX Runtime, embedded in this process.",
        subcommands = {GenerateCommand.class, VariationsCommand.class, InterpolateCommand.class, InpaintCommand.class,
                CaptionCommand.class, ModelsCommand.class, BenchCommand.class, LoadCommand.class, EvalCommand.class, StackCommand.class,
                StreamCommand.class, SubmitCommand.class, ResultsCommand.class, KeysCommand.class,
                CommandLine.HelpCommand.class, AutoComplete.GenerateCompletion.class},
        footer = {"", "Models: --models DIR, else $UNCLIP_MODELS, else models/bundle.",
                "Exit status: 0 ok, 1 failed, 2 bad input, 3 missing or invalid model bundle, 130 interrupted (Ctrl-C)."})
public final class UnclipCommand implements Callable<Integer> {
    static {
        // djl's tokenizer binding pulls in SLF4J without a provider; its "no providers" notice is noise
        if (System.getProperty("slf4j.internal.verbosity") == null) {
            System.setProperty("slf4j.internal.verbosity", "ERROR");
        }
        // engine log records (e.g. the CUDA-to-CPU fallback) as one line each on stderr
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "unclip: %4$s: %5$s%n");
        }
    }

    /**
     * grpc-java logs transport trouble (a host that does not resolve, a reset) with stack traces through JUL;
     * the commands say what went wrong in one line themselves. Held here: JUL keeps loggers weakly.
     */
    private static final java.util.logging.Logger GRPC_LOG = quiet("io.grpc");

    private static java.util.logging.Logger quiet(String name) {
        java.util.logging.Logger l = java.util.logging.Logger.getLogger(name);
        l.setLevel(java.util.logging.Level.OFF);
        return l;
    }

    private final Environment environment;
    /** Ctrl-C: a second one exits at once with 130, as a shell expects of SIGINT. */
    private final Interruption interruption = new Interruption(() -> Runtime.getRuntime().halt(ExitCodes.INTERRUPTED));
    /** Whether SIGINT is routed to {@link #interruption} while an image command runs (only in main). */
    private boolean handlesSignals;

    @Spec
    CommandSpec spec;

    public UnclipCommand() {
        this(Environment.system());
    }

    /** For tests: a given environment (variables, working directory, terminal or not). */
    public UnclipCommand(Environment environment) {
        this.environment = environment;
    }

    Environment environment() {
        return environment;
    }

    /** The hook SIGINT calls; tests call it directly. */
    Interruption interruption() {
        return interruption;
    }

    boolean handlesSignals() {
        return handlesSignals;
    }

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    public static void main(String[] args) {
        UnclipCommand command = new UnclipCommand();
        command.handlesSignals = true;
        System.exit(commandLine(command).execute(args));
    }

    /** The command line with one-line usage errors ("unclip: ..." plus a hint), as main uses it. */
    public static CommandLine commandLine(UnclipCommand command) {
        CommandLine cl = new CommandLine(command);
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("unclip: " + ex.getMessage() + " (see '" + ex.getCommandLine().getCommandSpec().qualifiedName()
                    + " --help')");
            err.flush();
            return ExitCodes.BAD_INPUT;
        });
        return cl;
    }
}

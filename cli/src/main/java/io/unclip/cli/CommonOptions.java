package io.unclip.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every command takes. */
public final class CommonOptions {
    @Option(names = "--models", paramLabel = "DIR",
            description = "Model bundle directory (default: $UNCLIP_MODELS, else models/bundle).")
    Path models;

    @Option(names = "--device", paramLabel = "cpu|cuda", defaultValue = "cpu",
            description = "Where ONNX Runtime runs: cpu, cuda or cuda:N (falls back to cpu with a warning)."
                    + " Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "ONNX Runtime intra-op threads (0 = its default).")
    int threads;

    @Option(names = "--json", description = "Write one JSON event per line on stdout, for scripts.")
    boolean json;

    @Option(names = "--debug", description = "Show stack traces of errors.")
    boolean debug;
}

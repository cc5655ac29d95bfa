package io.unclip.cli;

import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.stage.Caption;
import io.unclip.engine.stage.CaptionToken;
import io.unclip.engine.tensor.Tensor;
import java.nio.file.Path;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code unclip caption}: image to text, tokens streamed as they are decoded. */
@Command(name = "caption", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Caption an image with the bundle's captioner (greedy decoding; tokens stream as they come).",
        footer = {"", "Exit status: 0 ok, 1 failed, 2 bad input, 3 missing or invalid model bundle."})
final class CaptionCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "IMAGE", description = "The image (PNG).")
    Path source;

    @Option(names = "--style", paramLabel = "short|descriptive",
            description = "Caption style (the captioner's styles; default: its first, short).")
    String style;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "0",
            description = "Token budget (0 = as many as fit).")
    int maxTokens;

    @Override
    int run() {
        Tensor pixels = readImage("image", source);
        try (Cascade cascade = openCascade()) {
            StringBuilder streamed = new StringBuilder();
            Consumer<CaptionToken> tokens = t -> {
                output.event("token", Output.map("index", t.index(), "text", t.text(), "logprob", t.logprob()));
                if (!output.json() && environment().terminal()) {
                    spec.commandLine().getOut().print(streamed.length() == 0 ? t.text().stripLeading() : t.text());
                    spec.commandLine().getOut().flush();
                }
                streamed.append(t.text());
            };
            Caption c = cascade.caption(pixels, style, maxTokens, tokens, null, null);
            output.event("caption", Output.map("caption", c.text(), "style", c.style(), "tokens", c.tokenIds().length,
                    "finished", c.finished()));
            if (!output.json()) {
                if (environment().terminal()) {
                    spec.commandLine().getOut().println();
                } else {
                    spec.commandLine().getOut().println(c.text());
                }
                spec.commandLine().getOut().flush();
            }
        }
        return ExitCodes.OK;
    }
}

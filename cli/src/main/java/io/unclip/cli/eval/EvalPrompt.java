package io.unclip.cli.eval;

import io.unclip.shapes.PromptSpec;

/**
 * One prompt of an evaluation.
 *
 * @param id     names the output files ({@code <id>-<i>.png}); 1..64 of A-Z a-z 0-9 . _ -
 * @param prompt the text
 * @param seed   the generation seed (unsigned 64-bit); images i = 0..n-1 of the prompt are that seed's batch
 * @param spec   what the prompt states, parsed with {@link io.unclip.shapes.CaptionParser}
 */
public record EvalPrompt(String id, String prompt, long seed, PromptSpec spec) {
    /** "single_object" or "two_object": the group the prompt's images are scored in. */
    public String group() {
        return spec.objects().size() == 1 ? "single_object" : "two_object";
    }
}

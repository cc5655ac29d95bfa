package io.unclip.shapes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shapes-world --out DIR --count N --seed S --sizes 32,128,512 [--format png,npy] [--threads 2]}
 * writes a dataset; {@code shapes-world judge-eval --count N --size 32} reports judge accuracy on clean renders;
 * {@code shapes-world caption --seed S --index I} prints one scene's captions and metadata.
 */
@Command(name = "shapes-world", mixinStandardHelpOptions = true, version = "shapes-world v1",
        description = "Writes a Shapes-World v1 dataset: PNGs and/or NPY arrays per size plus captions.jsonl.",
        subcommands = {ShapesWorldCli.JudgeEval.class, ShapesWorldCli.CaptionCmd.class})
public final class ShapesWorldCli implements Callable<Integer> {
    @Option(names = "--out", description = "output directory")
    Path out;

    @Option(names = "--count", defaultValue = "1000", description = "number of scenes (default ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--seed", defaultValue = "0", description = "dataset seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--sizes", defaultValue = "32,128,512", split = ",", description = "image sizes (default ${DEFAULT-VALUE})")
    int[] sizes;

    @Option(names = "--format", defaultValue = "png", split = ",",
            description = "png and/or npy (uint8 (N,S,S,3) per size); default ${DEFAULT-VALUE}")
    List<String> formats;

    @Option(names = "--threads", defaultValue = "2", description = "render threads (default ${DEFAULT-VALUE})")
    int threads;

    @Override
    public Integer call() throws Exception {
        if (out == null) throw new CommandLine.ParameterException(new CommandLine(this), "--out is required");
        List<DatasetWriter.Format> fs = new ArrayList<>();
        for (String f : formats) fs.add(DatasetWriter.Format.valueOf(f.trim().toUpperCase(java.util.Locale.ROOT)));
        long t0 = System.nanoTime();
        final long[] last = {t0};
        new DatasetWriter(out, seed, count, sizes, fs, threads).write(done -> {
            long now = System.nanoTime();
            if (now - last[0] > 5_000_000_000L || done == count) {
                last[0] = now;
                System.err.printf("%d/%d scenes, %.1f scenes/s%n", done, count, done / ((now - t0) / 1e9));
            }
        });
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("wrote %d scenes (sizes %s, formats %s) to %s in %.1f s (%.1f scenes/s)%n",
                count, Arrays.toString(sizes), fs, out, s, count / s);
        return 0;
    }

    @Command(name = "judge-eval", mixinStandardHelpOptions = true,
            description = "Renders scenes and reports the judge's per-attribute accuracy against their descriptive captions.")
    static final class JudgeEval implements Callable<Integer> {
        @Option(names = "--count", defaultValue = "1000") int count;
        @Option(names = "--seed", defaultValue = "12345") long seed;
        @Option(names = "--size", defaultValue = "128") int size;

        @Override
        public Integer call() {
            JudgeStats st = JudgeStats.onRenders(seed, count, size);
            System.out.println(st.report());
            return 0;
        }
    }

    @Command(name = "caption", mixinStandardHelpOptions = true, description = "Prints one scene's captions and metadata.")
    static final class CaptionCmd implements Callable<Integer> {
        @Option(names = "--seed", defaultValue = "0") long seed;
        @Option(names = "--index", defaultValue = "0") long index;

        @Override
        public Integer call() {
            System.out.println(DatasetWriter.jsonLine(index, SceneSampler.sample(seed, index)));
            return 0;
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new ShapesWorldCli()).execute(args));
    }
}

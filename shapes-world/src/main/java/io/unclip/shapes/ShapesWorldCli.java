package io.unclip.shapes;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shapes-world --out DIR --count N --seed S --sizes 32,128,512 [--format png,npy] [--threads 2]}
 * writes a dataset; {@code shapes-world judge-eval --count N --size 32} reports judge accuracy on clean renders;
 * {@code shapes-world caption --seed S --index I} prints one scene's captions and metadata.
 */
@Command(name = "shapes-world", mixinStandardHelpOptions = true, version = "shapes-world v1",
        description = "Writes a Shapes-World v1 dataset: PNGs and/or NPY arrays per size plus captions.jsonl.",
        subcommands = {ShapesWorldCli.JudgeEval.class, ShapesWorldCli.JudgeCmd.class, ShapesWorldCli.CaptionCmd.class})
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

    @Command(name = "judge", mixinStandardHelpOptions = true,
            description = "Judges images (uint8 .npy (N,H,W,3), or PNG files) against prompts (a text file, one per line, "
                    + "or a JSON array of strings) and prints per-attribute accuracy.")
    static final class JudgeCmd implements Callable<Integer> {
        @Option(names = "--images", required = true,
                description = ".npy file, one PNG, or a directory of PNGs (sorted by name)")
        Path images;
        @Option(names = "--prompts", required = true) Path prompts;
        @Option(names = "--verbose", description = "print every image's verdicts") boolean verbose;
        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            List<RgbImage> imgs = new ArrayList<>();
            if (Files.isDirectory(images)) {
                try (var s = Files.list(images)) {
                    for (Path p : s.filter(f -> f.toString().endsWith(".png")).sorted().toList()) imgs.add(RgbImage.readPng(p));
                }
            } else if (images.toString().endsWith(".png")) {
                imgs.add(RgbImage.readPng(images));
            } else {
                imgs = NpyReader.readImages(images);
            }
            List<String> ps = readPrompts(prompts);
            if (ps.size() < imgs.size()) throw new IllegalArgumentException(imgs.size() + " images but " + ps.size() + " prompts");
            JudgeStats st = new JudgeStats();
            for (int i = 0; i < imgs.size(); i++) {
                Judgement j = SceneJudge.judge(imgs.get(i), ps.get(i));
                st.add(j);
                if (verbose) {
                    StringBuilder sb = new StringBuilder(String.format("%4d %s | %s |", i, j.allCorrect() ? "OK  " : "FAIL", ps.get(i)));
                    Boolean[] v = j.verdicts();
                    for (int k = 0; k < v.length; k++) if (v[k] != null && !v[k]) sb.append(' ').append(Judgement.NAMES[k]);
                    sb.append(" | seen: ").append(j.analysis().background().word());
                    for (DetectedObject d : j.analysis().objects())
                        sb.append(", ").append(d.size().word()).append(' ').append(d.color().word()).append(' ')
                                .append(d.shape().word()).append(" @").append(d.cell().words());
                    out.println(sb);
                }
            }
            out.print(st.report());
            out.flush();
            return 0;
        }

        static List<String> readPrompts(Path f) throws IOException {
            String text = Files.readString(f).trim();
            List<String> out = new ArrayList<>();
            if (text.startsWith("[")) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(text);
                while (m.find()) out.add(m.group(1));
            } else {
                for (String line : text.split("\\R")) if (!line.isBlank()) out.add(line.trim());
            }
            return out;
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
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new ShapesWorldCli());
        // a bad file or argument is one line on stderr and exit 1, not a stack trace
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("shapes-world: " + describe(e));
            return 1;
        });
        return cli;
    }

    /** File-system exceptions carry only the path as their message; say what went wrong with it. */
    static String describe(Exception e) {
        if (e instanceof FileAlreadyExistsException f) {
            return f.getFile() + ": exists and is not a directory (or is a dangling link)";
        }
        if (e instanceof NoSuchFileException f) {
            return f.getFile() + ": no such file or directory";
        }
        if (e instanceof AccessDeniedException f) {
            return f.getFile() + ": permission denied";
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}

package io.unclip.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import io.unclip.deploy.LocalStack;
import io.unclip.deploy.StackOptions;
import io.unclip.deploy.StackRestart;
import io.unclip.deploy.StackStatus;
import io.unclip.kafka.testkit.TopicProbe;

/**
 * The soak, only with {@code -Dunclip.soak=true} (skipped otherwise: it takes many minutes): a
 * stack with two replicas of every stage (text encoder, prior, decoder, upsampler), {@code
 * unclip.soak.jobs} JSON batch jobs (1000) sent at {@code unclip.soak.rate} jobs a second (6, more
 * than the stack keeps up with on 2 cores, so replicas are busy when killed), while one random
 * stage replica at a time is killed with SIGKILL every 5 to {@code unclip.soak.kill-every}
 * seconds (25) and restarted by name 0-3 s later; then the
 * {@link ResultAudit}. The kills follow {@code unclip.soak.seed} (1). Figures are printed and
 * written to {@code it/target/soak-report.txt}.
 *
 * <pre>
 * nice mvn -B -o verify -pl it -am -Dtest=SoakTest -Dsurefire.failIfNoSpecifiedTests=false -Dunclip.soak=true
 * </pre>
 */
class SoakTest {
    static final List<String> PROMPTS = List.of("a red circle at the top left", "a blue square below a green triangle",
            "a large yellow diamond on a black background", "a small green square on the right",
            "a purple triangle above a red circle");

    Path root = Path.of(System.getProperty("unclip.root", "..")).toAbsolutePath().normalize();
    Path bundle = Path.of(System.getProperty("unclip.test.bundle", "")).toAbsolutePath().normalize();
    Path state = root.resolve("it/target/soak-stack");

    /** Mostly short jobs at 32 px; every tenth with a 500-step decoder run, every seventh at 128 px (two upsampler steps). */
    static List<BatchJob> jobs(int n) {
        List<BatchJob> jobs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            jobs.add(new BatchJob("soak-" + i, PROMPTS.get(i % PROMPTS.size()), 1000 + i, i % 7 == 3 ? 128 : 32,
                    i % 10 == 0 ? 500 : 50));
        }
        return jobs;
    }

    @Test
    void jobsSurviveReplicasOfEveryStageKilledAndRestarted() throws Exception {
        assumeTrue(Boolean.getBoolean("unclip.soak"), "the soak runs only with -Dunclip.soak=true");
        int n = Integer.getInteger("unclip.soak.jobs", 1000);
        double rate = Double.parseDouble(System.getProperty("unclip.soak.rate", "6"));
        int killEvery = Integer.getInteger("unclip.soak.kill-every", 25);
        Random random = new Random(Long.getLong("unclip.soak.seed", 1L));
        List<String> victims = List.of("text-encoder-1", "text-encoder-2", "prior-1", "prior-2", "decoder-1",
                "decoder-2", "upsampler-1", "upsampler-2");

        LocalStack.down(state);
        StackStatus stack = LocalStack.up(StackOptions.defaults(root).withStateDir(state).withModels(bundle)
                .withReplicas(Map.of("text-encoder", 2, "prior", 2, "decoder", 2, "upsampler", 2)).withPorts(0, 0)
                .withPartitions(4).withJvmOptions(List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")));
        List<BatchJob> jobs = jobs(n);
        List<String> ids = jobs.stream().map(BatchJob::id).toList();
        Map<String, Integer> kills = new TreeMap<>();
        List<Double> restartSeconds = new ArrayList<>();
        try (TopicProbe kafka = new TopicProbe(stack.bootstrapServers(), "unclip.results");
             ResultAudit audit = new ResultAudit(stack.bootstrapServers())) {
            AtomicInteger sent = new AtomicInteger();
            long t0 = System.nanoTime();
            Thread sender = new Thread(() -> {
                for (BatchJob j : jobs) {
                    long due = t0 + (long) (sent.get() / rate * 1e9);
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        try {
                            Thread.sleep(wait / 1_000_000);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    kafka.send("unclip.jobs", j.id(), j.json());
                    sent.incrementAndGet();
                }
            }, "soak-sender");
            sender.start();

            // one replica down at a time: kill, wait, restart (waits for readiness), pause, again
            long deadline = System.nanoTime() + Duration.ofMinutes(60).toNanos();
            while (audit.finished(ids) < n && System.nanoTime() < deadline) {
                long pause = System.nanoTime() + (5 + random.nextInt(Math.max(1, killEvery - 4))) * 1_000_000_000L;
                while (System.nanoTime() < pause && audit.finished(ids) < n) {
                    Thread.sleep(100);
                }
                if (audit.finished(ids) >= n) {
                    break;
                }
                String victim = victims.get(random.nextInt(victims.size()));
                LocalStack.kill(state, victim);
                kills.merge(victim, 1, Integer::sum);
                System.out.printf(Locale.ROOT, "soak %.0f s: killed %s (%d sent, %d finished)%n",
                        (System.nanoTime() - t0) / 1e9, victim, sent.get(), audit.finished(ids));
                Thread.sleep(random.nextInt(3000));
                long r0 = System.nanoTime();
                StackRestart.restart(state, victim);
                restartSeconds.add((System.nanoTime() - r0) / 1e9);
            }
            sender.join();
            audit.await(ids, Duration.ofMinutes(10), Duration.ZERO);
            double wall = (System.nanoTime() - t0) / 1e9;
            audit.await(ids, Duration.ZERO, Duration.ofSeconds(5)); // late duplicates
            long a0 = System.nanoTime();
            ResultAudit.Report report = audit.report(jobs, bundle);
            String figures = String.format(Locale.ROOT, "soak: %d jobs sent at %.1f/s through 2 replicas of every stage,"
                            + " %d kills (%s), restart to ready %.1f s median; wall %.0f s (%.1f jobs/s); audit %.0f s: %s%n",
                    n, rate, kills.values().stream().mapToInt(i -> i).sum(), kills, median(restartSeconds), wall,
                    n / wall, (System.nanoTime() - a0) / 1e9, report.summary());
            System.out.print(figures);
            Files.writeString(root.resolve("it/target/soak-report.txt"), figures);
            assertEquals(0, report.lost(), report.summary());
            assertEquals(0, report.differing(), report.summary());
        } finally {
            LocalStack.down(state);
        }
    }

    static double median(List<Double> v) {
        if (v.isEmpty()) {
            return Double.NaN;
        }
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        return s.get(s.size() / 2);
    }
}

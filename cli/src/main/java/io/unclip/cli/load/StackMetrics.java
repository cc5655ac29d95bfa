package io.unclip.cli.load;

import io.unclip.engine.schedule.SchedulerStats;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The schedulers' totals of a running stack, read from every service replica's Prometheus page
 * ({@code /q/metrics}) and summed by scheduler: what {@code unclip load --target} reports as the
 * mean rows per model call of each stage. A replica that does not answer is left out.
 */
public final class StackMetrics {
    private static final Pattern LINE = Pattern.compile(
            "^(unclip_scheduler_rows_per_call_count|unclip_scheduler_rows_per_call_sum"
                    + "|unclip_scheduler_requests_refused_total)\\{([^}]*)}\\s+(\\S+)");
    private static final Pattern SCHEDULER = Pattern.compile("scheduler=\"([^\"]*)\"");

    private final List<URI> pages;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** @param ports the HTTP ports of the replicas, on localhost */
    public StackMetrics(List<Integer> ports) {
        this.pages = ports.stream().map(p -> URI.create("http://localhost:" + p + "/q/metrics")).toList();
    }

    /** Totals by scheduler now (calls, rows, refused; the other fields 0). */
    public Map<String, SchedulerStats> read() {
        Map<String, double[]> sums = new TreeMap<>(); // calls, rows, refused
        for (URI page : pages) {
            String text;
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(page).timeout(Duration.ofSeconds(5)).GET()
                        .build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    continue;
                }
                text = r.body();
            } catch (java.io.IOException e) {
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            for (String line : text.split("\n")) {
                Matcher m = LINE.matcher(line);
                if (!m.find()) {
                    continue;
                }
                Matcher s = SCHEDULER.matcher(m.group(2));
                if (!s.find()) {
                    continue;
                }
                double[] t = sums.computeIfAbsent(s.group(1), k -> new double[3]);
                int slot = m.group(1).endsWith("_count") ? 0 : m.group(1).endsWith("_sum") ? 1 : 2;
                t[slot] += Double.parseDouble(m.group(3));
            }
        }
        Map<String, SchedulerStats> out = new TreeMap<>();
        sums.forEach((name, t) -> out.put(name, new SchedulerStats((long) t[0], Math.round(t[1]), 0, (long) t[2], 0,
                0)));
        return out;
    }
}

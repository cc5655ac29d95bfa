package io.unclip.cli.load;

import io.unclip.engine.onnx.CostModel;
import java.util.Map;
import java.util.Set;

/**
 * What a perfect scheduler could get from a cost curve for a closed loop of N requests like
 * those of the one-at-a-time run: the N requests in lockstep, every call of a model shared by
 * all N (split into as few calls as {@code maxRows} allows for the step-scheduled models), calls
 * run one after another on the one device. Speedup = N x the cost of one request alone / the cost
 * of N in lockstep. Java work outside the calls counts as free, so the measured speedup can only
 * approach it.
 */
public final class IdealSpeedup {
    private IdealSpeedup() {
    }

    /**
     * @param alone     per model, usage of the one-at-a-time run (its calls and rows)
     * @param requests  how many requests that run had
     * @param scheduled the models whose calls a step scheduler batches, capped at {@code maxRows}
     */
    public static double closedLoop(CostModel curve, Map<String, CostModel.Usage> alone, int requests,
                                    int concurrency, Set<String> scheduled, int maxRows) {
        double one = 0;
        double together = 0;
        for (Map.Entry<String, CostModel.Usage> e : alone.entrySet()) {
            CostModel.Usage u = e.getValue();
            if (u.calls() == 0) {
                continue;
            }
            double callsPerRequest = (double) u.calls() / requests;
            double rows = (double) u.rows() / u.calls();
            one += callsPerRequest * curve.ms(e.getKey(), (int) Math.round(rows));
            double batchRows = rows * concurrency;
            int split = scheduled.contains(e.getKey()) ? (int) Math.ceil(batchRows / maxRows) : 1;
            together += callsPerRequest * split * curve.ms(e.getKey(), (int) Math.round(batchRows / split));
        }
        return together == 0 ? Double.NaN : concurrency * one / together;
    }
}

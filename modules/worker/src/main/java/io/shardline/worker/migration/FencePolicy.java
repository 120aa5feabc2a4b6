package io.shardline.worker.migration;

import java.time.Duration;

import io.shardline.worker.plane.Backoff;

/**
 * When a catching-up migration may fence its chunk: a pure policy over what the catch-up measures (how fast changes
 * are replayed, how many are left, how long a probe marker took to come back), with no clock or I/O of its own.
 *
 * <ul>
 *   <li>The replay rate is a moving average of what each poll applied; the predicted drain time is the lag over it.</li>
 *   <li>While the predicted drain does not fit the fence budget, the catch-up only replays.</li>
 *   <li>A large range is pre-checked (compared whole) once the drain fits, before any fence.</li>
 *   <li>Then a probe: a marker written and drained without a fence. It must come back within the budget, or, after
 *       three probes in a row that came back over it, within half the fence's hard bound (a connector that is simply
 *       this slow would otherwise never let a fence in).</li>
 *   <li>A probe that did not fit, and a fence that had to be lifted, back off before the next probe: the probe's own
 *       length (at most the retry backoff), or the retry backoff doubled per attempt (at most 32 times).</li>
 * </ul>
 */
public final class FencePolicy {

    /** What the catch-up does next. */
    public enum Next {
        /** Replay more changes: the drain does not fit the budget yet, or a back-off runs. */
        REPLAY,
        /** Compare the whole range before fencing (a large range, not compared yet). */
        PRE_CHECK,
        /** Write a marker and drain to it without a fence; {@link #fenceAfterProbe} says whether to fence then. */
        PROBE
    }

    /** Probes over budget in a row after which a probe within half the hard bound is good enough. */
    static final int SLOW_PROBES_TOLERATED = 3;
    private static final int MAX_BACKOFF_DOUBLINGS = 5;

    private final long budgetMillis;
    private final long hardBoundMillis;
    private final long retryBackoffMillis;
    private double eventsPerSecond = 1_000;
    private int slowProbes;
    private long backoffUntil;

    /**
     * @param budget       how long a fence should hold writes
     * @param hardBound    how long a fence may hold writes at most
     * @param retryBackoff the pause after a failed fence attempt, doubled per attempt
     */
    public FencePolicy(Duration budget, Duration hardBound, Duration retryBackoff) {
        this.budgetMillis = budget.toMillis();
        this.hardBoundMillis = hardBound.toMillis();
        this.retryBackoffMillis = retryBackoff.toMillis();
    }

    /** One poll of the replay: {@code applied} changes in {@code seconds}. */
    public void replayed(int applied, double seconds) {
        if (applied > 0) {
            eventsPerSecond = 0.7 * eventsPerSecond + 0.3 * (applied / Math.max(1e-3, seconds));
        }
    }

    /** How long draining {@code lag} changes would take at the measured rate. */
    public long predictedMillis(long lag) {
        return (long) (lag / Math.max(1, eventsPerSecond) * 1000);
    }

    public Next next(long lag, boolean large, boolean preChecked, long nowMillis) {
        if (predictedMillis(lag) >= budgetMillis) {
            return Next.REPLAY;
        }
        if (large && !preChecked) {
            return Next.PRE_CHECK;
        }
        return nowMillis >= backoffUntil ? Next.PROBE : Next.REPLAY;
    }

    /** After a probe: true to fence now; false backs off for the probe's length (at most the retry backoff). */
    public boolean fenceAfterProbe(boolean drained, long probeMillis, long nowMillis) {
        slowProbes = drained && probeMillis >= budgetMillis ? slowProbes + 1 : 0;
        boolean fits = probeMillis < budgetMillis || slowProbes >= SLOW_PROBES_TOLERATED && probeMillis < hardBoundMillis / 2;
        if (drained && fits) {
            return true;
        }
        backoffUntil = nowMillis + Math.min(probeMillis, retryBackoffMillis);
        return false;
    }

    /** After a fence was lifted on its {@code attempt}-th try: the back-off before the next probe, in milliseconds. */
    public long unfenced(int attempt, long nowMillis) {
        long backoff = Backoff.exponential(Duration.ofMillis(retryBackoffMillis), Duration.ofMillis(retryBackoffMillis << MAX_BACKOFF_DOUBLINGS),
            attempt).toMillis();
        backoffUntil = nowMillis + backoff;
        return backoff;
    }
}

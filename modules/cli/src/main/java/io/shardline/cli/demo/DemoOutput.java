package io.shardline.cli.demo;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;

import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardEvent;

/**
 * Where the demo writes. On a terminal: a live frame redrawn every second, lines and the report below it. Otherwise
 * (a pipe, a file, CI): one line per event and per migration step, a status line every {@value #STATUS_EVERY_SECONDS}
 * seconds, then the report.
 */
public abstract class DemoOutput {

    static final int STATUS_EVERY_SECONDS = 15;

    final PrintWriter out;

    DemoOutput(PrintWriter out) {
        this.out = out;
    }

    /** @param live whether stdout is a terminal that can redraw a frame in place */
    public static DemoOutput of(PrintWriter out, boolean live) {
        return live ? new Live(out) : new Plain(out);
    }

    public static String clock(Duration duration) {
        return DemoView.clock(duration.toMillis());
    }

    public synchronized void line(String text) {
        out.println(text);
        out.flush();
    }

    public abstract void event(ShardEvent event);

    public abstract void migration(MigrationState state);

    /** Once a second while the workload runs. */
    public abstract void tick(ClusterWatch.Snapshot snapshot, long elapsedMillis, long durationMillis, AuthWorkload workload,
                              double opsPerSecond, Map<String, String> urls);

    public synchronized void report(String report) {
        out.println();
        out.print(report);
        out.flush();
    }

    /** Plain lines: every event (but progress) and every migration step, and a status line now and then. */
    static final class Plain extends DemoOutput {
        private long lastStatus;
        private MigrationStateKey lastStep;

        Plain(PrintWriter out) {
            super(out);
        }

        private record MigrationStateKey(String migrationId, String phase) {
        }

        @Override
        public void event(ShardEvent event) {
            if (DemoView.worthShowing(event)) {
                line(DemoView.line(event));
            }
        }

        @Override
        public synchronized void migration(MigrationState state) {
            MigrationStateKey key = new MigrationStateKey(state.getMigrationId(), state.getPhase().name());
            if (!key.equals(lastStep)) {
                lastStep = key;
                line(String.format(java.util.Locale.ROOT, "migration %s %s %s->%s %s (%d/%d docs copied)", state.getMigrationId().substring(0, 8),
                    state.getNamespace(), state.getSourceShardId(), state.getTargetShardId(), state.getPhase(), state.getCopiedDocs(),
                    state.getTotalDocs()));
            }
        }

        @Override
        public synchronized void tick(ClusterWatch.Snapshot snapshot, long elapsedMillis, long durationMillis, AuthWorkload workload,
                                      double opsPerSecond, Map<String, String> urls) {
            if (elapsedMillis - lastStatus >= STATUS_EVERY_SECONDS * 1000L) {
                lastStatus = elapsedMillis;
                line(DemoView.status(snapshot, new DemoView.Status(elapsedMillis, durationMillis, workload.phase().name(), opsPerSecond,
                    workload.failures(), urls)));
            }
        }
    }

    /** A frame redrawn in place with ANSI escapes; events and steps show in the frame, not as lines. */
    static final class Live extends DemoOutput {
        private static final String HOME_AND_CLEAR = "\u001b[H\u001b[2J";

        Live(PrintWriter out) {
            super(out);
        }

        @Override
        public void event(ShardEvent event) {
            // Shown in the next frame's event list.
        }

        @Override
        public void migration(MigrationState state) {
            // Shown in the next frame's migration list.
        }

        @Override
        public synchronized void tick(ClusterWatch.Snapshot snapshot, long elapsedMillis, long durationMillis, AuthWorkload workload,
                                      double opsPerSecond, Map<String, String> urls) {
            out.print(HOME_AND_CLEAR);
            out.print(DemoView.frame(snapshot, new DemoView.Status(elapsedMillis, durationMillis, workload.phase().name(), opsPerSecond,
                workload.failures(), urls)));
            out.flush();
        }
    }
}
